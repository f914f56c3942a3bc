# 00_basics.sh: global options, usage errors and exit codes.

run --version;  expect "--version exits 0" 0; expect_out "--version prints the version" '^calcspec [0-9]+\.[0-9]+\.[0-9]+$'
run --help;     expect "--help exits 0" 0;    expect_out "--help lists info" '^  info '
run;            expect "no command is a usage error" 2
run frobnicate; expect "unknown command exits 2" 2 "unknown command 'frobnicate'"
run --bogus;    expect "unknown global option exits 2" 2 "unknown option"
for c in info convert formats; do
  run "$c" --help; expect "$c --help exits 0" 0
  expect_out "$c --help prints usage" "^usage: calcspec $c"
done
run info;                 expect "info without files exits 2" 2 "no input files"
run info --nope x;        expect "info with an unknown option exits 2" 2
run info --format nosuch x; expect "info with an unknown format exits 2" 2 "unknown format"
run info "$T/does-not-exist"; expect "missing file exits 1" 1 "calcspec: $T/does-not-exist: "
expect_prefixed_errors "missing file error is one prefixed line"
printf 'this is not a spectrum\n\001\002\003' > "$T/junk.bin"
run info "$T/junk.bin";   expect "unrecognised file exits 1" 1 "calcspec: $T/junk.bin: "
: > "$T/empty.txt"
run info "$T/empty.txt";  expect "empty file exits 1" 1 "empty file"
run formats;              expect "formats exits 0" 0
expect_out "formats prints a header" '^name	read	write	extensions	description$'
run formats extra;        expect "formats with an argument exits 2" 2
run convert;              expect "convert without -o exits 2" 2 "no output file"
run convert -o "$T/x.animl" a b; expect "convert with two inputs exits 2" 2
run convert --laser abc -o "$T/x.animl" a; expect "convert --laser strict parsing" 2 "--laser"
run convert --range 5:1 -o "$T/x.animl" a; expect "convert --range needs A<B" 2 "--range"
