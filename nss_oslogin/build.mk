# libnss_oslogin.so.2: libc only. It links the few libbasic objects it
# needs (validators, cache reader, record codec, socket protocol) straight
# from libbasic.a; a version script exports only _nss_oslogin_*.
NSS_MODULE := $(B)/nss_oslogin/libnss_oslogin.so.2
NSS_MODULE_SRCS := \
	nss_oslogin/enumerate.c \
	nss_oslogin/local.c \
	nss_oslogin/lookup.c \
	nss_oslogin/negative.c \
	nss_oslogin/nss-oslogin.c \
	nss_oslogin/pack.c
NSS_MODULE_OBJS := $(NSS_MODULE_SRCS:%.c=$(B)/%.o)

# -z nodelete: lookup.c registers a thread-key destructor and atfork
# handlers, which cannot be unregistered; a dlclose() (a program that
# dlopens the module, glibc's __libc_freeres under valgrind) must not unmap
# the code they point to.
$(NSS_MODULE): $(NSS_MODULE_OBJS) $(B)/libbasic.a nss_oslogin/libnss_oslogin.map
	$(CC) $(ALL_CFLAGS) -shared -o $@ $(NSS_MODULE_OBJS) $(B)/libbasic.a $(ALL_LDFLAGS) \
		-Wl,-soname,libnss_oslogin.so.2 -Wl,--version-script=nss_oslogin/libnss_oslogin.map \
		-Wl,-z,defs -Wl,-z,nodelete -Wl,--gc-sections

MODULES += $(NSS_MODULE)

install-nss: $(NSS_MODULE)
	install -D -m 0644 $(NSS_MODULE) $(DESTDIR)$(NSSDIR)/libnss_oslogin.so.2
INSTALL_RULES += install-nss
.PHONY: install-nss
