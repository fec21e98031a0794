# Typed evaluation of nix/module.nix without nixpkgs: the module's own
# options plus the NixOS options it sets (nix/tests/nixos-options.nix, real
# names and types), definitions from the module and from `userConfig`,
# mkIf/mkMerge pushed down as the module system does, every definition
# checked against its option's type and merged. A definition of an option
# that is not declared fails, as does a value of the wrong type.
#
#   nix-instantiate --eval --strict --json nix/tests/module-typed-eval.nix \
#     --arg userConfig '{ services.jira-mcp = { enable = true; ... }; }'
#
# scripts/check-nix runs it (also on mutated copies of the module) and
# starts the real binary with the rendered service (scripts/check-service.py).
{ userConfig
, modulePath ? ../module.nix
}:
let
  lib = import ./mini-lib.nix;
  inherit (builtins) all attrNames concatMap elemAt filter genList head isAttrs length listToAttrs;

  fakeDrv = name: extra: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  } // extra;
  pkgs = {
    stdenv.hostPlatform.system = "x86_64-linux";
    gvisor = fakeDrv "gvisor" { meta.mainProgram = "runsc"; };
  };
  self.packages.x86_64-linux.default = fakeDrv "jira-mcp" {
    unwrapped = fakeDrv "jira-mcp-0.1.0" { meta.mainProgram = "jira-mcp"; };
    sandboxImage = fakeDrv "stream-jira-mcp-sandbox" { };
    imageRef = "jira-mcp-sandbox:stubtag";
    seccompProfile = "/nix/store/11111111111111111111111111111111-run_python.json";
    meta.mainProgram = "jira-mcp";
  };

  module = import modulePath { inherit self; } { inherit config lib pkgs; };

  isOption = d: isAttrs d && (d._type or null) == "option";

  # Deep union of two option trees (the module declares services.*).
  unionDecls = a: b:
    a // builtins.mapAttrs (n: v: if a ? ${n} && !isOption v && !isOption a.${n} then unionDecls a.${n} v else v) b;
  decls = unionDecls (import ./nixos-options.nix { inherit lib; docker = fakeDrv "docker" { }; }) module.options;

  # Definitions as { path, value, conds }: mkMerge flattened, mkIf pushed
  # down to the leaves (its condition is evaluated only when the value is
  # needed, as in the module system), descent guided by the declarations.
  # A leaf's value is not looked at here: it may depend on `config` itself.
  collect = decl: path: value: conds:
    if isOption decl && !(decl.type ? submodules) then [{ inherit path value conds; }]
    else
      let kind = value._type or null; in
      if isAttrs value && kind == "merge" then concatMap (v: collect decl path v conds) value.contents
      else if isAttrs value && kind == "if" then collect decl path value.content (conds ++ [ value.condition ])
      else if isOption decl then
        (if isAttrs value then
          concatMap (n: collect decl.type.submodules (path ++ [ n ]) value.${n} conds) (attrNames value)
        else throw "A definition for option `${lib.showPath path}' is not of type `${decl.type.name}'.")
      else if isAttrs value then
        concatMap
          (n:
            if decl ? ${n} then collect decl.${n} (path ++ [ n ]) value.${n} conds
            else throw "The option `${lib.showPath (path ++ [ n ])}' does not exist.")
          (attrNames value)
      else throw "The option `${lib.showPath path}' is a set of options; the definition ${lib.show value} is not.";

  # A leaf definition's own mkIf/mkMerge, resolved when its value is needed.
  expand = d:
    let kind = d.value._type or null; in
    if isAttrs d.value && kind == "merge" then concatMap (v: expand (d // { value = v; })) d.value.contents
    else if isAttrs d.value && kind == "if" then expand (d // { value = d.value.content; conds = d.conds ++ [ d.value.condition ]; })
    else [ d ];

  defs = collect decls [ ] module.config [ ] ++ collect decls [ ] userConfig [ ];
  active = d: all (c: c) d.conds;
  startsWith = prefix: p: length p >= length prefix && genList (i: elemAt p i) (length prefix) == prefix;

  valueOf = decl: path:
    let mine = filter active (concatMap expand (filter (d: d.path == path) defs)); in
    if mine == [ ] then
      (if decl ? default then decl.default
      else throw "The option `${lib.showPath path}' is used but not defined.")
    else
      let
        values = map (d: d.value) mine;
        bad = filter (v: !decl.type.check v) values;
      in
      if bad != [ ] then
        throw "A definition for option `${lib.showPath path}' is not of type `${decl.type.name}'. Definition value: ${lib.show (head bad)}"
      else decl.type.merge path values;

  build = decl: path:
    if isOption decl then
      (if decl.type ? submodules then
        let
          under = filter (d: active d && startsWith path d.path && length d.path > length path) defs;
          names = lib.foldl' (acc: d: acc // { ${elemAt d.path (length path)} = true; }) { } under;
        in
        listToAttrs (map (n: { name = n; value = build decl.type.submodules (path ++ [ n ]); }) (attrNames names))
      else valueOf decl path)
    else builtins.mapAttrs (n: d: build d (path ++ [ n ])) decl;

  config = build decls [ ];

  # Forces every definition's type check (the service is rendered below; an
  # unused definition must fail too).
  checked = builtins.deepSeq (map (d: if active d then valueOf (declAt d.path) d.path else null) defs) true;
  declAt = path: lib.foldl'
    (d: n: if isOption d && d.type ? submodules then d.type.submodules else d.${n})
    decls
    path;
  inherit (builtins) seq;
in
seq checked {
  failedAssertions = map (a: a.message) (filter (a: !a.assertion) config.assertions);
  runsc = config.virtualisation.docker.daemon.settings.runtimes.runsc or null;
  dockerEnabled = config.virtualisation.docker.enable;
  services = config.systemd.services;
  systemPackages = map (p: p.name) config.environment.systemPackages;
  tokenFileDescription = module.options.services.jira-mcp.http.tokenFile.description;
  definitions = length (filter active defs);
}
