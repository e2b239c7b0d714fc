#!/bin/bash
# secret_files_test.sh BUILD - every program refuses to start (-n checks the
# configuration) when a secret file it names is readable by group or others,
# naming the file, and accepts it at mode 0600. Prints "ok NAME" / "FAIL NAME: why".
REPO=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-build}
case "$B" in /*) ;; *) B=$REPO/$B;; esac
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=t -keyout "$tmp/key.pem" \
  -out "$tmp/cert.pem" >/dev/null 2>&1
printf 'secret\n' > "$tmp/pw"
# program parameter file
cases="txmail-smtpd smtpd_tls_key_file key.pem
txmail-rest rest_tls_key_file key.pem
txmail-track track_tls_key_file key.pem
txmail-deliver broker_password_file pw
txmail-notify db_password_file pw"
while read -r prog param file; do
  name="${prog}_${param}"
  conf=$tmp/$name.conf
  { echo "$param = $tmp/$file"
    case $param in smtpd_tls_key_file) echo "smtpd_tls_cert_file = $tmp/cert.pem";;
                   rest_tls_key_file) echo "rest_tls_cert_file = $tmp/cert.pem";;
                   track_tls_key_file) echo "track_tls_cert_file = $tmp/cert.pem";; esac; } > "$conf"
  chmod 644 "$tmp/$file"
  out=$("$B/bin/$prog" -c "$conf" -n 2>&1); rc=$?
  if [ $rc -ne 0 ] && grep -q "$tmp/$file.*mode 0644" <<< "$out"; then echo "ok   secret_files_test.sh ${name}_0644_refused"
  else echo "FAIL secret_files_test.sh ${name}_0644_refused: exit $rc: $out"; fi
  chmod 600 "$tmp/$file"
  out=$("$B/bin/$prog" -c "$conf" -n 2>&1); rc=$?
  if ! grep -q "mode 0" <<< "$out"; then echo "ok   secret_files_test.sh ${name}_0600_accepted"
  else echo "FAIL secret_files_test.sh ${name}_0600_accepted: exit $rc: $out"; fi
  if grep -q "PRIVATE KEY\|^secret$" <<< "$out"; then echo "FAIL secret_files_test.sh ${name}_not_printed: $out"; fi
done <<< "$cases"
