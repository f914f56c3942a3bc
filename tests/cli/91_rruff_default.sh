# 91_rruff_default.sh: real RRUFF reference minerals (../shared/minerals,
# processed files ending 1105-1524 cm^-1) with the DEFAULT embedded model,
# no training step: the chain picks the widest window each file covers.
M=$SHARED/minerals
if [ ! -d "$M/whewellite" ]; then
  skip "RRUFF minerals with the default model" "no $M (../shared absent)"
else
  for pair in whewellite:oxalate weddellite:oxalate hydroxylapatite:hydroxyapatite \
              whitlockite:whitlockite calcite:calcite; do
    d=${pair%%:*} cls=${pair#*:}
    run classify "$M/$d"; expect "default model classifies RRUFF $d" 0
    got=$(awk -F'\t' 'NR > 1 { print $5 }' "$T/out" | sort -u | tr '\n' ' ')
    [ "$got" = "$cls " ] && ok "RRUFF $d -> $cls ($(awk -F'\t' 'NR > 1 { print $NF }' "$T/out" | sort -u | tr '\n' ' '))" \
      || not_ok "RRUFF $d -> $cls" "got: $got"
  done
  run classify "$M/whewellite"
  [ "$(awk -F'\t' 'NR > 1 { print $6 }' "$T/out" | sort -u)" = COM ] && ok "RRUFF whewellite subtype COM" \
    || not_ok "RRUFF whewellite subtype" "$(cut -f6 "$T/out")"
  # other minerals: unknown or the chemically nearest class, never tissue
  # (every file holds strong bands)
  near() { # DIR ALLOWED_CLASSES...
    d=$1; shift
    run classify "$M/$d"
    got=$(awk -F'\t' 'NR > 1 { print $5 }' "$T/out" | sort -u | tr '\n' ' ')
    bad=$(for c in $got; do case " $* " in *" $c "*) ;; *) echo "$c" ;; esac; done)
    [ "$rc" -eq 0 ] && [ -n "$got" ] && [ -z "$bad" ] && ok "RRUFF $d -> $got" \
      || not_ok "RRUFF $d -> one of: $*" "exit $rc, got: $got"
  }
  near aragonite calcite                          # CaCO3 polymorph
  near chlorapatite hydroxyapatite
  near fluorapatite hydroxyapatite
  near struvite hydroxyapatite                    # nearest phosphate
  near merrillite hydroxyapatite whitlockite      # whitlockite group
  near dolomite calcite unknown                   # CaMg(CO3)2, nu1 1097
  # brushite (CaHPO4.2H2O): its HPO4 band at ~985 cm^-1, several times any
  # band of the class the LDA picks, is rejected with the reason
  run classify "$M/brushite"
  got=$(awk -F'\t' 'NR > 1 { print $5 "|" $23 }' "$T/out" | sort -u | tr '\n' ' ')
  case $got in
    "unknown|"*"unexplained"*) ok "RRUFF brushite -> unknown, band unexplained ($(awk -F'\t' 'NR > 1 { print $24 }' "$T/out" | head -1))" ;;
    *) not_ok "RRUFF brushite -> unknown (unexplained band)" "got: $got" ;;
  esac
  n=$(awk -F'\t' 'NR > 1 && $5 == "unknown" && $24 !~ /unexplained/' "$T/out" | wc -l)
  [ "$n" -eq 0 ] && ok "RRUFF brushite: every file for that reason" || not_ok "RRUFF brushite: $n files unknown for another reason"
  run classify "$M/dolomite"
  n=$(awk -F'\t' 'NR > 1 && $5 == "unknown" && $24 == ""' "$T/out" | wc -l)
  [ "$n" -eq 0 ] && ok "RRUFF dolomite: unknown only with a reason" || not_ok "RRUFF dolomite unknown without reason"
  run classify "$M/aragonite" "$M/chlorapatite" "$M/fluorapatite" "$M/brushite" "$M/merrillite" "$M/struvite" "$M/dolomite"
  expect "default model classifies the other RRUFF minerals" 0
  n=$(awk -F'\t' 'NR > 1 && $5 == "tissue"' "$T/out" | wc -l)
  [ "$n" -eq 0 ] && ok "no RRUFF mineral called tissue" || not_ok "RRUFF minerals called tissue: $n"
fi

# real bone FTIR (carbonated biological apatite in collagen) with the
# default FTIR model: hydroxyapatite, not rejected by Q
B=$SHARED/minerals/bone_tissue_ftir
if [ ! -d "$B" ]; then
  skip "bone FTIR with the default model" "no $B (../shared absent)"
else
  run classify "$B"; expect "default model classifies bone FTIR" 0
  got=$(awk -F'\t' 'NR > 1 { print $5 }' "$T/out" | sort -u | tr '\n' ' ')
  [ "$got" = "hydroxyapatite " ] && ok "bone FTIR -> hydroxyapatite ($(awk -F'\t' 'NR > 1' "$T/out" | wc -l) files)" \
    || not_ok "bone FTIR -> hydroxyapatite" "got: $got"
fi
