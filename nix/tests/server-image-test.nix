# nix/server-image.nix evaluated with stubs instead of nixpkgs (scripts/check-nix):
# streamLayeredImage returns its arguments, so the image's name and config can be
# checked without building anything.
let
  image = import ../server-image.nix {
    lib.getExe = drv: "${drv.outPath}/bin/${drv.meta.mainProgram}";
    dockerTools.streamLayeredImage = args: args;
    cacert = "/nix/store/cacert";
    server = {
      outPath = "/nix/store/jira-mcp";
      meta.mainProgram = "jira-mcp";
    };
  };
in
{
  inherit (image) name tag;
  inherit (image.config) User Entrypoint Cmd Env;
}
