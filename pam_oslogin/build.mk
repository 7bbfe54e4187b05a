# pam_oslogin.so: links lib/mds (json-c, its own HTTP client) statically into the module;
# a version script exports only pam_sm_*.
PAM_MODULE := $(B)/pam_oslogin/pam_oslogin.so
PAM_MODULE_SRCS := \
	pam_oslogin/pam-oslogin.c \
	pam_oslogin/two-factor.c
PAM_MODULE_OBJS := $(PAM_MODULE_SRCS:%.c=$(B)/%.o)
PAM_LIBS := $(shell $(PKG_CONFIG) --libs pam 2>/dev/null || echo -lpam)

$(PAM_MODULE): $(PAM_MODULE_OBJS) $(B)/libmds.a $(B)/libbasic.a pam_oslogin/pam_oslogin.map
	$(CC) $(ALL_CFLAGS) -shared -o $@ $(PAM_MODULE_OBJS) $(B)/libmds.a $(B)/libbasic.a $(ALL_LDFLAGS) \
		-Wl,--version-script=pam_oslogin/pam_oslogin.map -Wl,-z,defs \
		$(MDS_DEP_LIBS) $(PAM_LIBS) -lpthread

MODULES += $(PAM_MODULE)

install-pam: $(PAM_MODULE)
	install -D -m 0644 $(PAM_MODULE) $(DESTDIR)$(PAMDIR)/pam_oslogin.so
INSTALL_RULES += install-pam
.PHONY: install-pam
