// Package cardcrypto holds the card cryptography a PIN pad and an acquirer
// share: double-length 3DES keys, key check values, working keys wrapped
// under the terminal master key, ISO 9564 format 0 PIN blocks and encrypted
// track data. posrt's runtime never calls it: only PIN pad and host code
// (real drivers, the fakes and the simulators) handle clear keys.
package cardcrypto
