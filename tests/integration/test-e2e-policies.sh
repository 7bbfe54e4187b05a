#!/usr/bin/env bash
# The OS Login policy switches end to end (doc/oslogin-policies.md), with a
# real sshd and ssh in a private namespace, accountsd against the fake
# metadata server (tests/fixtures/policies.json), the NSS and PAM modules
# and the thin clients overlaid where the host finds them:
#   - enable-oslogin-certificates: a certificate from the CA of
#     oslogin/certificates with the fingerprint@google.com extension logs
#     in through oslogin-authorized-principals; a wrong CA, an expired
#     certificate, a fingerprint the directory refuses and none at all are
#     refused; plain keys are no longer offered (no AuthorizedKeysCommand);
#   - enable-oslogin-sk: the key command offers only the security keys, a
#     plain key is refused, an sa_ account's plain key still logs in;
#   - only keys the directory vouches for: a key an OS Login user adds to
#     ~/.ssh/authorized_keys is refused (Match Group oslogin-users,
#     AuthorizedKeysFile none), the directory's key is accepted, and a local
#     user's own authorized_keys still works.
. "$(dirname "$0")/../lib.sh"
ACCOUNTSD=$BUILD/accountsd/oslogin-accountsd
AKC=$BUILD/authorized-keys-cmd/oslogin-authorized-keys
AKP=$BUILD/authorized-keys-cmd/oslogin-authorized-principals
MAKE_CERT=$BUILD/tests/tools/oslogin-make-cert
NSS_MODULE=$MODULES_BUILD/nss_oslogin/libnss_oslogin.so.2
PAM_MODULE=$MODULES_BUILD/pam_oslogin/pam_oslogin.so
for f in "$ACCOUNTSD" "$AKC" "$AKP" "$MAKE_CERT" "$NSS_MODULE" "$PAM_MODULE" "$FAKE"; do
	[ -e "$f" ] || { echo "not ok 1 - $f built"; echo "1..1"; exit 1; }
done
[ -x /usr/sbin/sshd ] || { echo "ok 1 - e2e policies # SKIP openssh-server not installed"; echo "1..1"; exit 0; }
enter_namespace "$@"
private_etc
private_dir /home /root /var/lib/oslogin /var/lib/google
SYSLOG=/run/policies-syslog.log
capture_syslog "$SYSLOG" || not_ok "syslog capture"
chmod 0666 /dev/log # the thin clients run as _oslogin

install_modules "$NSS_MODULE" "$PAM_MODULE"
mkdir -p /run/layer-sbin
install -m 0755 "$AKC" /run/layer-sbin/oslogin-authorized-keys
install -m 0755 "$AKP" /run/layer-sbin/oslogin-authorized-principals
mount -t overlay overlay -o "lowerdir=/run/layer-sbin:/usr/sbin" /usr/sbin
getent passwd _oslogin >/dev/null ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin _oslogin
useradd --create-home --shell /bin/bash localuser
ssh-keygen -A >/dev/null 2>&1

start_fake "$FIXTURES/policies.json" || { not_ok "fake server starts"; done_testing; }
CTL=$FAKE_URL/_fake
set_attr() { curl -sf -X PUT --data-binary "$3" "$CTL/attributes/$1/$2" >/dev/null; }
mkdir -p /etc/oslogin
cat >/etc/oslogin/oslogin.conf <<EOF
[metadata]
url = $FAKE_URL/computeMetadata/v1/
timeout = 2s
[broker]
answer_ttl = 1s
EOF
chmod 0644 /etc/oslogin/oslogin.conf

PORT=$(free_port)
/usr/sbin/sshd -p "$PORT" -o ListenAddress=127.0.0.1 -o PrintMotd=no
wait_for 10 test -s /run/sshd.pid || { not_ok "sshd starts"; done_testing; }
on_exit "kill $(cat /run/sshd.pid) 2>/dev/null"
LOG=/run/accountsd.log
"$ACCOUNTSD" >$LOG 2>&1 &
_cleanup_pids+=($!)
DROPIN=/etc/ssh/sshd_config.d/00-oslogin.conf
CA_FILE=/run/oslogin/trusted-ca-keys.pub
check "accountsd activated OS Login with certificates: the drop-in names the CA file" wait_for 15 \
	grep -qx "TrustedUserCAKeys $CA_FILE" $DROPIN
check "… and the principals command" grep -qx \
	"AuthorizedPrincipalsCommand /usr/sbin/oslogin-authorized-principals %u %k" $DROPIN
check_fails "… and no key command: certificates replace plain keys" 1 grep -q '^AuthorizedKeysCommand ' $DROPIN
check "… and OS Login users' own authorized_keys off" \
	bash -c "grep -A1 -x 'Match Group oslogin-users' $DROPIN | grep -qx '    AuthorizedKeysFile none'"
check "the CA file is written from oslogin/certificates" wait_for 10 test -s $CA_FILE
check_eq "… a regular file (no FIFO), root's, 0644" "regular file 0:644" "$(stat -c '%F %u:%a' $CA_FILE)"
check_eq "… holding the fixture CA" "$(cat "$FIXTURES/keys/policy-ca.pub")" "$(cat $CA_FILE)"
check "sshd -t accepts the whole configuration" /usr/sbin/sshd -t
sleep 0.5 # sshd re-executes itself on SIGHUP
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$PORT" 2>/dev/null

W=/run/policies-keys
mkdir -p $W
for k in heidi ivan sa_robot; do cp "$FIXTURES/keys/$k" "$FIXTURES/keys/$k.pub" $W/ && chmod 0600 $W/$k; done
CA=$FIXTURES/keys/policy-ca.pem
FP=b86db4ca-09fd-429e-b121-a12799614032
SSH_OPTS=(-F /dev/null -p "$PORT" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10)
# login KEY USER [CERT]: id -un over ssh; sets OUT and RC.
login() {
	local cert=()
	[ -n "${3:-}" ] && cert=(-o CertificateFile="$3")
	OUT=$(timeout 30 ssh "${SSH_OPTS[@]}" -i "$1" "${cert[@]}" "$2@127.0.0.1" id -un 2>&1)
	RC=$?
}
# refused DESCRIPTION REGEX: the last login was refused by sshd: ssh's 255
# (also its code for a lost connection) and REGEX in its output.
refused() {
	if [ "$RC" = 255 ] && grep -Eq -- "$2" <<<"$OUT"; then ok "$1"; else not_ok "$1" "exit $RC, want 255 and /$2/" "${OUT:0:1000}"; fi
}
cert() {
	ncert=$((ncert + 1))
	CERT=$W/cert-$ncert.pub
	"$MAKE_CERT" sign "$@" >"$CERT"
}
ncert=0

# --- certificates (enable-oslogin-certificates=TRUE in the fixture) ---
cert "$CA" $W/ivan.pub -n ivan_example_com -f "$FP"
login $W/ivan ivan_example_com "$CERT"
check_eq "a certificate with the extension logs ivan in" "0:ivan_example_com" "$RC:$OUT"
check_eq "the principals command prints his name for it (as _oslogin)" "ivan_example_com" \
	"$(runuser -u _oslogin -- /usr/sbin/oslogin-authorized-principals ivan_example_com "$(cut -d' ' -f2 "$CERT")")"
# A certificate login's metadata requests (profile, authorize&fingerprint=,
# login and adminLogin for the account step), as in test-e2e-sshd.
decision_requests() {
	curl -sf "$CTL/stats" | python3 -c '
import json, sys
paths = json.load(sys.stdin)["paths"]
print(sum(n for p, n in paths.items() if p.rstrip("/").endswith(("/oslogin/users", "/oslogin/authorize"))))'
}
sleep 1.2 # the shared answers ([broker] answer_ttl) expire
curl -sf -X DELETE "$CTL/stats" >/dev/null
login $W/ivan ivan_example_com "$CERT"
check_eq "ivan logs in again with it" "0:ivan_example_com" "$RC:$OUT"
diag "ivan's certificate login: $(decision_requests) metadata requests"
cert "$CA" $W/ivan.pub -n ivan_example_com -f "$FP" -F data
login $W/ivan ivan_example_com "$CERT"
check_eq "… and in the name + data form" "0:ivan_example_com" "$RC:$OUT"
rm -f $W/other-ca.pem
"$MAKE_CERT" genca $W/other-ca.pem >/dev/null
cert $W/other-ca.pem $W/ivan.pub -n ivan_example_com -f "$FP"
login $W/ivan ivan_example_com "$CERT"
refused "a certificate from another CA is refused" 'Permission denied \(publickey\)'
now=$(date +%s)
cert "$CA" $W/ivan.pub -n ivan_example_com -f "$FP" -V $((now - 7200)):$((now - 3600))
login $W/ivan ivan_example_com "$CERT"
refused "a certificate whose validity ended is refused" 'Permission denied \(publickey\)'
cert "$CA" $W/ivan.pub -n ivan_example_com -f 00000000-0000-0000-0000-000000000000
login $W/ivan ivan_example_com "$CERT"
refused "a fingerprint the directory does not vouch for is refused" 'Permission denied \(publickey\)'
OUT=$(runuser -u _oslogin -- /usr/sbin/oslogin-authorized-principals ivan_example_com "$(cut -d' ' -f2 "$CERT")")
check_eq "… the principals command prints nothing, exit 0" "0:" "$?:$OUT"
check "… and accountsd logged the refusal" wait_for 5 grep -q \
	'principals user=ivan_example_com email=ivan@example.com decision=denied reason="the directory does not vouch for this certificate (fingerprint 00000000-0000-0000-0000-000000000000)"' $LOG
cert "$CA" $W/ivan.pub -n ivan_example_com
login $W/ivan ivan_example_com "$CERT"
refused "a certificate without the fingerprint extension is refused" 'Permission denied \(publickey\)'
check "… no principal, nothing asked (logged)" wait_for 5 grep -q \
	'principals user=ivan_example_com email=- decision=denied reason="the certificate has no fingerprint@google.com extension"' $LOG
cert "$CA" $W/ivan.pub -n ivan_example_com -f "$FP"
login $W/ivan heidi_example_com "$CERT"
refused "ivan's certificate does not open heidi's account" 'Permission denied \(publickey\)'
login $W/ivan ivan_example_com
refused "ivan's plain key is refused while certificates are required" 'Permission denied \(publickey\)'

# --- security keys: sk wins over certificates, as in the agent ---
set_attr instance enable-oslogin-sk TRUE
check "enable-oslogin-sk: the drop-in gets the key command back" wait_for 15 grep -qx \
	"AuthorizedKeysCommand /usr/sbin/oslogin-authorized-keys %u %f" $DROPIN
check_fails "… and drops the certificate lines (security keys win)" 1 grep -q '^TrustedUserCAKeys' $DROPIN
sleep 0.5
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$PORT" 2>/dev/null
akc() { runuser -u _oslogin -- /usr/sbin/oslogin-authorized-keys "$@"; }
check_eq "the key command offers heidi her two security keys only" \
	"$(grep -o '"sk-[^"]*"' "$FIXTURES/policies.json" | tr -d '"')" "$(akc heidi_example_com)"
OUT=$(akc heidi_example_com "$(ssh-keygen -lf $W/heidi.pub | cut -d' ' -f2)")
check_eq "… and nothing, exit 0, for her plain key's fingerprint" "0:" "$?:$OUT"
check "… a refusal accountsd logged" wait_for 5 grep -q \
	'keys user=heidi_example_com email=heidi@example.com decision=denied reason="security keys required: not one of the user' $LOG
check_eq "… the sk key's fingerprint gives that key" "$(cat "$FIXTURES/keys/heidi-sk.pub")" \
	"$(akc heidi_example_com "$(ssh-keygen -lf "$FIXTURES/keys/heidi-sk.pub" | cut -d' ' -f2)")"
sleep 1.2
curl -sf -X DELETE "$CTL/stats" >/dev/null
login $W/heidi heidi_example_com
refused "heidi's plain key is refused by sshd" 'Permission denied \(publickey\)'
diag "heidi's refused plain key (security keys required): $(decision_requests) metadata requests"
login $W/sa_robot sa_100000000000000000001
check_eq "the service account sa_… logs in with its plain key" "0:sa_100000000000000000001" "$RC:$OUT"
cert "$CA" $W/ivan.pub -n ivan_example_com -f "$FP"
login $W/ivan ivan_example_com "$CERT"
refused "certificates no longer open the host while security keys are required" 'Permission denied \(publickey\)'

# --- only the directory's keys: ~/.ssh/authorized_keys does not count ---
set_attr instance enable-oslogin-sk FALSE
set_attr instance enable-oslogin-certificates FALSE
check "both off: keys and certificates (cert_authentication defaults to true)" wait_for 15 bash -c \
	"grep -q '^AuthorizedKeysCommand ' $DROPIN && grep -q '^TrustedUserCAKeys ' $DROPIN"
sleep 0.5
wait_for 10 bash -c "echo >/dev/tcp/127.0.0.1/$PORT" 2>/dev/null
check "NSS puts heidi in oslogin-users" bash -c "id -Gn heidi_example_com | tr ' ' '\n' | grep -qx oslogin-users"
check_eq "… which getent resolves by name and GID" "oslogin-users:*:4294000000:" "$(getent group 4294000000)"
check "id -Gn localuser answers" id -Gn localuser
check_fails "localuser is not in it" 1 bash -c "id -Gn localuser | tr ' ' '\n' | grep -qx oslogin-users"
ssh-keygen -q -t ed25519 -N '' -C own-key -f $W/own
for u in heidi_example_com localuser; do
	home=$(getent passwd $u | cut -d: -f6)
	install -d -m 0700 -o $u -g "$(id -g $u)" "$home" "$home/.ssh"
	install -m 0600 -o $u -g "$(id -g $u)" $W/own.pub "$home/.ssh/authorized_keys"
done
check_eq "sshd -T: AuthorizedKeysFile none for heidi" "authorizedkeysfile none" \
	"$(/usr/sbin/sshd -T -C user=heidi_example_com,host=localhost,addr=127.0.0.1 | grep -i '^authorizedkeysfile')"
check_eq "… and the host's setting for localuser" "authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2" \
	"$(/usr/sbin/sshd -T -C user=localuser,host=localhost,addr=127.0.0.1 | grep -i '^authorizedkeysfile')"
login $W/own heidi_example_com
refused "a key heidi put in her own authorized_keys is refused" 'Permission denied \(publickey\)'
login $W/heidi heidi_example_com
check_eq "… her key in the directory logs her in" "0:heidi_example_com" "$RC:$OUT"
login $W/own localuser
check_eq "a local user's own authorized_keys still works" "0:localuser" "$RC:$OUT"
cert "$CA" $W/ivan.pub -n ivan_example_com -f "$FP"
login $W/ivan ivan_example_com "$CERT"
check_eq "certificates still log in beside keys (cert_authentication)" "0:ivan_example_com" "$RC:$OUT"

# --- OS Login off: the CA file goes with it ---
set_attr instance enable-oslogin FALSE
check "enable-oslogin off: the drop-in is removed" wait_for 15 bash -c "! test -e $DROPIN"
check "… and the CA file too" wait_for 10 bash -c "! test -e $CA_FILE"

# --- a local group with the users group's GID: OS Login is not activated ---
groupadd -g 4294000000 gidclash
set_attr instance enable-oslogin TRUE
check "a local group holding users_gid refuses the activation, saying why" wait_for 15 grep -q \
	'Cannot activate the OS Login configuration: sshd: \[sshd\] users_group "oslogin-users" (GID 4294000000) is a local group' $LOG
check_fails "… no drop-in written" 1 test -e $DROPIN

done_testing
