# Just enough of nixpkgs' `lib` for nix/module.nix, in bare Nix, so
# scripts/check-nix can evaluate the module on a host without nixpkgs
# (nix/tests/module-typed-eval.nix). Not a copy of nixpkgs: each function
# does what the module needs with the semantics of its nixpkgs namesake.
#
# Option types carry `check` (is a definition of this type?) and `merge`
# (several definitions into one value, or throw); `submodules` marks
# `attrsOf (submodule ...)`, whose definitions the evaluator descends into.
let
  inherit (builtins)
    all any concatLists concatStringsSep elem filter foldl' head isAttrs isBool
    isFloat isInt isList isString length match mapAttrs replaceStrings split
    substring tail toJSON typeOf zipAttrsWith;

  isDerivation = x: isAttrs x && (x.type or null) == "derivation";
  show = x:
    if isDerivation x then "<derivation ${x.name or "?"}>"
    else if builtins.isFunction x then "<function>"
    else if isAttrs x then "{ ${concatStringsSep " " (map (n: "${n} = ${show x.${n}};") (builtins.attrNames x))} }"
    else if isList x then "[ ${concatStringsSep " " (map show x)} ]"
    else toJSON x;
  showPath = concatStringsSep ".";

  # All definitions equal, or a conflict (nixpkgs' mergeEqualOption).
  mergeEqual = path: values:
    let first = head values; in
    if all (v: v == first) (tail values) then first
    else throw "The option `${showPath path}' has conflicting definition values: ${concatStringsSep ", " (map show values)}";

  mkType = name: check: {
    _type = "option-type";
    inherit name check;
    merge = mergeEqual;
  };

  # A JSON value (pkgs.formats.json's type): attribute sets merge by key,
  # lists concatenate, anything else must agree.
  json = {
    _type = "option-type";
    name = "JSON value";
    check = v: v == null || isBool v || isInt v || isFloat v || isString v
      || (isList v && all json.check v) || (isAttrs v && !isDerivation v && all json.check (builtins.attrValues v));
    merge = path: values:
      if all isAttrs values then zipAttrsWith (n: json.merge (path ++ [ n ])) values
      else if all isList values then concatLists values
      else mergeEqual path values;
  };

  types = rec {
    str = mkType "string" isString;
    singleLineStr = mkType "(optionally newline-terminated) single-line string"
      (v: isString v && match "[^\n]*\n?" v != null);
    lines = mkType "strings concatenated with \"\\n\"" isString // {
      merge = _: concatStringsSep "\n";
    };
    bool = mkType "boolean" isBool;
    int = mkType "signed integer" isInt;
    anything = mkType "anything" (_: true);
    unspecified = anything // { name = "unspecified value"; };
    package = mkType "package" (v: isDerivation v || (isString v && substring 0 11 v == "/nix/store/"));
    path = mkType "path" (v: (isString v || builtins.isPath v || isDerivation v) && substring 0 1 (toString v) == "/");
    pathWith = { absolute, inStore }:
      mkType
        "${if absolute then "absolute " else ""}path${if inStore then " in the Nix store" else " not in the Nix store"}"
        (v: (isString v || builtins.isPath v) && !builtins.isPath v
          && (!absolute || substring 0 1 v == "/")
          && (inStore == (substring 0 11 v == "/nix/store/")));
    strMatching = re: mkType "string matching the pattern ${re}" (v: isString v && match re v != null);
    enum = values: mkType "one of ${concatStringsSep ", " (map show values)}" (v: elem v values);
    ints.between = lo: hi: mkType "integer between ${toString lo} and ${toString hi} (both inclusive)"
      (v: isInt v && lo <= v && v <= hi);
    nullOr = t: {
      _type = "option-type";
      name = "null or ${t.name}";
      check = v: v == null || t.check v;
      merge = path: values: if all (v: v == null) values then null else t.merge path (filter (v: v != null) values);
    };
    oneOf = ts: mkType (concatStringsSep " or " (map (t: t.name) ts)) (v: any (t: t.check v) ts);
    listOf = t: {
      _type = "option-type";
      name = "list of ${t.name}";
      check = v: isList v && all t.check v;
      merge = _: concatLists;
    };
    attrsOf = t: {
      _type = "option-type";
      name = "attribute set of ${t.name}";
      check = v: isAttrs v && !isDerivation v && all t.check (builtins.attrValues v);
      merge = path: zipAttrsWith (n: t.merge (path ++ [ n ]));
    };
    addCheck = t: extra: t // { check = v: t.check v && extra v; };
    # attrsOf (submodule { options = ...; }): the evaluator checks each
    # attribute's definitions against `options`.
    attrsOfSubmodule = name: options: {
      _type = "option-type";
      name = "attribute set of (${name})";
      check = isAttrs;
      merge = _: values: values;
      submodules = options;
    };
    inherit json;
  };
in
{
  inherit types isDerivation showPath show mergeEqual;

  mkOption = attrs: attrs // { _type = "option"; };
  mkEnableOption = name: {
    _type = "option";
    type = types.bool;
    default = false;
    description = "Whether to enable ${name}.";
  };
  mkPackageOption = pkgs: name: _: {
    _type = "option";
    type = types.package;
    default = pkgs.${name};
    description = "The ${name} package to use.";
  };
  literalExpression = text: { _type = "literalExpression"; inherit text; };
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };

  optionalAttrs = cond: attrs: if cond then attrs else { };
  boolToString = b: if b then "true" else "false";
  last = l: builtins.elemAt l (length l - 1);
  # Literal separator (the module splits on ":").
  splitString = sep: s: filter isString (split (replaceStrings [ "." "[" "]" "*" "+" "?" "(" ")" "|" "^" "$" "\\" ] [ "\\." "\\[" "\\]" "\\*" "\\+" "\\?" "\\(" "\\)" "\\|" "\\^" "\\$" "\\\\" ] sep) s);
  getExe = drv: "${drv}/bin/${drv.meta.mainProgram}";
  getExe' = drv: name: "${drv}/bin/${name}";
  escapeShellArg = s: "'${replaceStrings [ "'" ] [ "'\\''" ] (toString s)}'";

  inherit (builtins) mapAttrs foldl' typeOf;
}
