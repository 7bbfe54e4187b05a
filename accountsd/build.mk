# accountsd: the daemon, its admin CLI and the modules they share. Each part
# has its own fragment that appends its sources to ACCOUNTSD_LIB_SRCS (code
# shared by the daemon, osloginctl and unit tests) and its programs to PROGRAMS.
ACCOUNTSD_LIB_SRCS :=

include accountsd/etc.mk
include accountsd/sysconf.mk
include accountsd/directory.mk
include accountsd/policy.mk
include accountsd/daemon.mk

ACCOUNTSD_LIB_OBJS := $(ACCOUNTSD_LIB_SRCS:%.c=$(B)/%.o)
$(ACCOUNTSD_LIB_OBJS): ALL_CFLAGS += $(JSONC_CFLAGS)

$(B)/libaccountsd.a: $(ACCOUNTSD_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

all: $(B)/libaccountsd.a
UNIT_TEST_LIBS += $(B)/libaccountsd.a
