# OS Login policies (issue 15): the sshd lines of the policy switches and
# the TrustedUserCAKeys file, pure pieces the daemon wires in.
ACCOUNTSD_LIB_SRCS += accountsd/sshd-policy.c
ACCOUNTSD_LIB_SRCS += accountsd/trusted-ca.c
