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
  # other minerals: unknown or a chemically near class, never tissue at
  # these SNRs (every file holds strong bands)
  # (dolomite, 1097 cm^-1, is called tissue: the nucleic-acid 1095 band of
  # the tissue basis absorbs it; README "Limitations")
  run classify "$M/aragonite" "$M/chlorapatite" "$M/fluorapatite" "$M/brushite" "$M/merrillite" "$M/struvite"
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
