/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The MESSAGE_ID of every event kind the daemon records (log_event()).
 * Stable: administrators filter on them (`journalctl MESSAGE_ID=…`), and
 * units/oslogin.catalog explains each for `journalctl -x`. Listed with
 * their fields in doc/journal.md. Never reuse or change one. */

#define MESSAGE_ID_KEY_DECISION "9bbb755b3a9e4f76b0cd806ae9825255"
#define MESSAGE_ID_ACCOUNT_DECISION "b80ed75bb37e4feb82f6b068f2827b6f"
#define MESSAGE_ID_TWO_FACTOR_DECISION "8bf110d39f884fc4a98015851e4d967f"
#define MESSAGE_ID_SUDO_GRANTED "2b54e47abc1c4372aa98fd8eb555b1a7"
#define MESSAGE_ID_SUDO_REVOKED "b67eb9631fce4de9b107938ecf7b4966"
#define MESSAGE_ID_USER_CREATED "d2e4bc49ef0f42e3a3dde9bae667a0aa"
#define MESSAGE_ID_USER_UPDATED "684b5ef4fd2f429b93e996f7e4d99677"
#define MESSAGE_ID_USER_REMOVED "f1d9736b0e9645b8b86c079e6059bb38"
#define MESSAGE_ID_MODE_SWITCH "5a08483977224e718f3f84154622c999"
#define MESSAGE_ID_TAKEOVER "f1ea021d82794b4f9caab86880f40119"
#define MESSAGE_ID_DIRECTORY_BUILD "a110390763c6490bbf492065dffaadca"
#define MESSAGE_ID_MDS_LOST "4eb25f0edb4b43dc8fb828bfba9e180b"
#define MESSAGE_ID_MDS_BACK "f4ea0f209f254f57b148182917c7c67f"
