# Files outside Cargo's own sources (*.rs, *.toml, Cargo.lock) that the crate
# or its tests read, relative to the repository root. nix/package.nix adds
# them to crane's source (a missing entry is skipped); scripts/check-nix
# fails when src/ or tests/ reads a file (include_str!, include_bytes!,
# env!("CARGO_MANIFEST_DIR")) that no entry covers. Plain data, so bare Nix
# can read it. Insta snapshots under src/ (*.snap) are added separately.
[
  "seccomp" # include_str! of seccomp/run_python.json (the embedded profile)
  "src/sandbox/docker/supervisor.py" # include_str! of the sandbox containers' PID 1
  "src/sandbox/e2b/launcher.py" # include_str! of the E2B backend's in-VM hardening launcher
  "docs" # include_str! of docs/jql-reference.md; a test compares docs/tools.md
  "tests" # integration tests, tests/snapshots, tests/fixtures
  "README.md" # in case the crate docs include it
  "src/emulator/files" # include_bytes! of the demo site's attachments (screenshots, a PDF)
]
