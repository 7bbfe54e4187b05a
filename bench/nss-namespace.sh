# Sourced by the NSS benchmarks, already in their own mount namespace:
# nss_private_namespace BUILD gives them a private /run and /etc (copies of
# the host's) and the module of BUILD overlaid into the system library
# directory, so glibc loads it by name; it leaves them in /run/oslogin.
nss_private_namespace() {
	local module=$1/nss_oslogin/libnss_oslogin.so.2 libdir
	libdir=/usr/lib/$(gcc -print-multiarch)
	mount --make-rprivate /
	mount -t tmpfs -o mode=0755 tmpfs /run
	mkdir -p /run/oslogin /run/etc /run/nsslib
	cp -a /etc/. /run/etc/
	mount --bind /run/etc /etc
	cp "$module" /run/nsslib/
	mount -t overlay overlay -o "lowerdir=/run/nsslib:$libdir" "$libdir"
	cd /run/oslogin
}
