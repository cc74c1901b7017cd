#!/bin/sh
# check-layers.sh - lib/ is layered; a lower layer never includes a higher one.
#
# The layers, lowest first (docs/ARCHITECTURE.md says what each holds):
#   util  dns  global  tables  tls sasl  mail  store  login  imap
# A file in lib/LAYER/ may include headers of its own folder and of the
# folders listed before LAYER (tls and sasl are one level: neither may
# include the other).  Prints every violation; exits 1 if there is one.
set -u
cd "$(dirname "$0")/.." || exit 2
rank() {
    case $1 in
    util) echo 0 ;; dns) echo 1 ;; global) echo 2 ;; tables) echo 3 ;;
    tls|sasl) echo 4 ;; mail) echo 5 ;; store) echo 6 ;; login) echo 7 ;;
    imap) echo 8 ;; *) echo 99 ;;
    esac
}
status=0
for dir in lib/*/; do
    layer=$(basename "$dir")
    [ "$(rank "$layer")" = 99 ] && { echo "lib/$layer: not a known layer (mk/check-layers.sh)"; status=1; }
done
for file in lib/*/*.[ch]; do
    layer=$(basename "$(dirname "$file")")
    mine=$(rank "$layer")
    for hdr in $(sed -n 's/^#include "\([a-z0-9_]*\.h\)".*/\1/p' "$file"); do
        found=$(ls lib/*/"$hdr" 2>/dev/null | head -1)
        [ -n "$found" ] || continue
        theirs_layer=$(basename "$(dirname "$found")")
        [ "$theirs_layer" = "$layer" ] && continue
        if [ "$(rank "$theirs_layer")" -ge "$mine" ]; then
            echo "$file includes $found: layer $layer may not use $theirs_layer"
            status=1
        fi
    done
done
[ $status = 0 ] && echo "layers: ok"
exit $status
