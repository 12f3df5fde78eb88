// Package upqrsim is posrt's UnionPay online gateway simulator: an HTTP
// server (on loopback by default) answering ACP 5.1.0 form POSTs at
// /gateway/api/backTransReq.do (payment-code consumption txnType 01 /
// txnSubType 06, void 31, refund 04) and /gateway/api/queryTrans.do
// (query 00), so that a client pointed at its URL works unmodified. It
// checks what the gateway checks: version, signMethod 01, the certId
// (the merchant's signing certificate's serial) and the signature over
// the SHA-256 hex of the sorted fields under that certificate's key (11),
// the merId (31), encoding, bizType, accessType, channelType and currency
// (10), orderId (8 to 40 letters and digits) and txnTime (10), the
// transaction on its own path (32), a missing qrNo or origQryId (13), the
// payment code (19 digits from 62, single use, and for the codes it
// issued their lifetime: 86), an orderId reused (the same amount answers
// the same trade; another amount 12), a void of the same day only and in
// full (35, 36), refunds whose sum stays within the original (33), and
// refunds or voids of a transaction that is not a paid consumption (35).
// It makes its own self-signed root and a signing certificate under it
// unless given them, and signs every answer with that certificate,
// carried in signPubKeyCert. It books consumptions, payments of those in
// process, voids and refunds in an append-only JSON-lines ledger, synced
// before it answers and replayed when it starts (payment codes kept as
// digests and masked, never a key), shows it (Server.Ledger, GET /ledger
// on its admin endpoint) and injects faults on demand (POST /faults): no
// answer, late answer, reset, partial answer, bad signature, 05 (in
// process) for N queries, 06 (busy), a request delivered twice.
// Simplified: voids and refunds succeed at once; a query of a voided
// consumption still answers origRespCode 00 (the void is a transaction of
// its own), and one voided while in process 01; the queries an in-process
// consumption has had are counted in memory only.
package upqrsim
