// Package operator keeps the terminal's operators: the supervisor 00 and
// the cashiers 01 to 99, in <data-dir>/operators.json (mode 0600, replaced
// durably on every change, a missing file meaning the factory operators
// 00/123456 and 01/0000, a corrupt one refused rather than reset). It
// holds argon2id hashes (per-password random salt, parameters in each
// hash's PHC string) and never a password; Login, Verify, Supervisor and
// the supervisor's actions (Unlock, ResetPassword, Add, Remove) check a
// password in constant time and count wrong ones: MaxTries in a row lock
// the operator for Options.LockFor (30 minutes by default), and the count
// and the lock are on disk before the answer returns, so a restart does
// not reset them. The supervisor unlocks a cashier; a locked supervisor is
// unlocked only by time, since nobody is above it. Errors are *Error with
// a code (Code, HTTPStatus) for the ECR API, the console and the
// terminal.
package operator
