#!/usr/bin/env bash
# tests/tools/oslogin-make-cert: the certificates it builds are the ones OS
# Login's CA issues (the fingerprint as the extension *name*
# "fingerprint@google.com=<FP>", or the name + data form), ssh-keygen -L
# reads them, and a real sshd with TrustedUserCAKeys accepts them for a user
# through AuthorizedPrincipalsFile, while refusing a wrong CA, an expired
# certificate and a principal that is not listed. (The principals command
# that asks the directory comes with the trust broker; this file only
# proves the certificates.)
. "$(dirname "$0")/../lib.sh"
MAKE_CERT=$BUILD/tests/tools/oslogin-make-cert
[ -x "$MAKE_CERT" ] || { echo "not ok 1 - $MAKE_CERT built"; echo "1..1"; exit 1; }
[ -x /usr/sbin/sshd ] || { echo "ok 1 - certificates # SKIP openssh-server not installed"; echo "1..1"; exit 0; }
enter_namespace "$@"
private_etc
private_dir /home
W=/run/cert-test
mkdir -p $W
CA=$FIXTURES/keys/policy-ca.pem
FP=b86db4ca-09fd-429e-b121-a12799614032

# --- the tool alone ---
check_eq "capub prints the fixture CA's public key line" "$(cat "$FIXTURES/keys/policy-ca.pub")" "$("$MAKE_CERT" capub "$CA")"
cp "$FIXTURES/keys/ivan" "$FIXTURES/keys/ivan.pub" $W/ && chmod 0600 $W/ivan
"$MAKE_CERT" sign "$CA" $W/ivan.pub -n certuser -f "$FP" -I ivan-cert >$W/ivan-cert.pub
L=$(ssh-keygen -L -f $W/ivan-cert.pub 2>&1)
check "ssh-keygen -L reads it as a user certificate signed by the CA" grep -q \
	"Signing CA: ED25519 $(ssh-keygen -l -f "$FIXTURES/keys/policy-ca.pub" | cut -d' ' -f2)" <<<"$L"
check "the fingerprint is an extension name, fingerprint@google.com=<FP>" \
	grep -q "fingerprint@google.com=$FP UNKNOWN FLAG OPTION" <<<"$L"
check "the fingerprint extension sorts before the permit-* flags" \
	bash -c "sed -n '/Extensions:/,\$p' <<<\"\$1\" | sed -n 2p | grep -q fingerprint@google.com=" _ "$L"
check "the certified key is the user's key" grep -q \
	"Public key: ED25519-CERT $(ssh-keygen -l -f $W/ivan.pub | cut -d' ' -f2)" <<<"$L"
"$MAKE_CERT" sign "$CA" $W/ivan.pub -n certuser -f "$FP" -F data >$W/ivan-cert-data.pub
check "-F data: name fingerprint@google.com with the value as data" grep -q \
	"fingerprint@google.com UNKNOWN OPTION: 00000024$(printf %s "$FP" | od -An -tx1 | tr -d ' \n') (len 40)" \
	<<<"$(ssh-keygen -L -f $W/ivan-cert-data.pub 2>&1)"
"$MAKE_CERT" sign "$CA" "$FIXTURES/keys/heidi-sk.pub" -n certuser -f "$FP" >$W/sk-cert.pub
check_eq "a security key gets an sk certificate type" "sk-ssh-ed25519-cert-v01@openssh.com" "$(cut -d' ' -f1 $W/sk-cert.pub)"
check "… that ssh-keygen reads" ssh-keygen -L -f $W/sk-cert.pub
check_fails_msg "a certificate is refused as the key to certify" 1 'already a certificate' "$MAKE_CERT" sign "$CA" $W/ivan-cert.pub -n x
check_fails_msg "a CA key that is not Ed25519 PEM is refused" 1 'not an Ed25519 private key in PEM' "$MAKE_CERT" sign $W/ivan.pub $W/ivan.pub -n x
rm -f $W/other-ca.pem
"$MAKE_CERT" genca $W/other-ca.pem >$W/other-ca.pub
check_eq "genca writes the new CA key with mode 0600" 600 "$(stat -c %a $W/other-ca.pem)"
check_fails_msg "genca never overwrites a key" 1 'it must not exist' "$MAKE_CERT" genca $W/other-ca.pem
check_eq "genca prints the public key capub prints" "$(cat $W/other-ca.pub)" "$("$MAKE_CERT" capub $W/other-ca.pem)"

# --- a real sshd ---
useradd --create-home --shell /bin/bash -p '*' certuser
mkdir -p /etc/ssh/principals
echo certuser >/etc/ssh/principals/certuser
cp "$FIXTURES/keys/policy-ca.pub" /etc/ssh/oslogin-test-ca.pub
ssh-keygen -A >/dev/null 2>&1
PORT=$(free_port)
/usr/sbin/sshd -p "$PORT" -o ListenAddress=127.0.0.1 -o PidFile=/run/sshd-cert.pid \
	-o TrustedUserCAKeys=/etc/ssh/oslogin-test-ca.pub -o AuthorizedPrincipalsFile=/etc/ssh/principals/%u \
	-o AuthorizedKeysFile=none -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no
wait_for 10 test -s /run/sshd-cert.pid || { not_ok "sshd starts"; done_testing; }
on_exit "kill $(cat /run/sshd-cert.pid) 2>/dev/null"
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$PORT" 2>/dev/null
login() { # CERT USER: sets OUT and RC
	OUT=$(timeout 30 ssh -F /dev/null -p "$PORT" -o IdentitiesOnly=yes -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10 \
		-i $W/ivan -o CertificateFile="$1" "$2@127.0.0.1" id -un 2>&1)
	RC=$?
}
login $W/ivan-cert.pub certuser
check_eq "sshd accepts the certificate (name form) for a listed principal" "0:certuser" "$RC:$OUT"
login $W/ivan-cert-data.pub certuser
check_eq "sshd accepts the certificate (data form)" "0:certuser" "$RC:$OUT"
login /dev/null certuser
check_eq "the bare key, without its certificate, is refused (AuthorizedKeysFile none)" 255 "$RC"
"$MAKE_CERT" sign $W/other-ca.pem $W/ivan.pub -n certuser -f "$FP" >$W/wrong-ca.pub
login $W/wrong-ca.pub certuser
check_eq "a certificate from another CA is refused" 255 "$RC"
now=$(date +%s)
"$MAKE_CERT" sign "$CA" $W/ivan.pub -n certuser -f "$FP" -V $((now - 7200)):$((now - 3600)) >$W/expired.pub
login $W/expired.pub certuser
check_eq "an expired certificate is refused" 255 "$RC"
"$MAKE_CERT" sign "$CA" $W/ivan.pub -n someoneelse -f "$FP" >$W/other-principal.pub
login $W/other-principal.pub certuser
check_eq "a certificate whose principal is not listed is refused" 255 "$RC"
: >/etc/ssh/principals/certuser
login $W/ivan-cert.pub certuser
check_eq "an empty principals answer refuses the certificate" 255 "$RC"

done_testing
