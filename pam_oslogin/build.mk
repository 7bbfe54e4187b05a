# pam_oslogin.so: a thin client of accountsd's pam.sock. libc and libpam
# only (lib/basic linked in statically, hidden); a version script exports
# only pam_sm_*. tests/integration/test-pam.sh checks the NEEDED entries.
PAM_MODULE := $(B)/pam_oslogin/pam_oslogin.so
PAM_MODULE_SRCS := \
	pam_oslogin/pam-oslogin.c \
	pam_oslogin/two-factor.c
PAM_MODULE_OBJS := $(PAM_MODULE_SRCS:%.c=$(B)/%.o)
PAM_LIBS := $(call pkg_libs,pam)

$(PAM_MODULE): $(PAM_MODULE_OBJS) $(B)/libbasic.a pam_oslogin/pam_oslogin.map
	$(CC) $(ALL_CFLAGS) -shared -o $@ $(PAM_MODULE_OBJS) $(B)/libbasic.a $(ALL_LDFLAGS) \
		-Wl,--version-script=pam_oslogin/pam_oslogin.map -Wl,-z,defs $(PAM_LIBS)

MODULES += $(PAM_MODULE)

install-pam: $(PAM_MODULE)
	install -D -m 0644 $(PAM_MODULE) $(DESTDIR)$(PAMDIR)/pam_oslogin.so
INSTALL_RULES += install-pam
.PHONY: install-pam
