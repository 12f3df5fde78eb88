// Package unionpayqr is posrt's UnionPay QR channel (built-in unionpay-qr,
// medium unionpay_qr): a channels.Wallet that speaks the UnionPay online
// gateway's ACP 5.1.0 interface for consumption by the customer's payment
// code (被扫, C2B), each call a UTF-8 form POST: Pay is
// /gateway/api/backTransReq.do with txnType 01, txnSubType 06, bizType
// 000000, channelType 08, accessType 0, currencyCode 156, txnAmt in fen,
// orderId = OrderNo, txnTime yyyyMMddHHmmss (China time), merId and qrNo =
// the payment code; Query /gateway/api/queryTrans.do with txnType 00 (the
// original's state in origRespCode and origRespMsg); Cancel a query, then
// a void (消费撤销, txnType 31, origQryId, the whole amount, orderId "V" +
// OrderNo); Refund a refund (退货, txnType 04, origQryId, orderId =
// RefundNo, partial); RefundQuery a query of the refund's orderId. Every
// request carries version 5.1.0, encoding UTF-8, signMethod 01 and certId,
// the serial number (decimal) of the merchant's signing certificate, and
// is signed as the UnionPay SDKs do: every field but signature, sorted by
// name, joined name=value&... unencoded; the lower-case hex of that
// string's SHA-256 is signed SHA256withRSA (PKCS #1 v1.5) with the
// certificate's key, base64. An answer (name=value&... unencoded, braces
// kept whole) is trusted only when its signPubKeyCert chains to the
// configured root (crypto/x509, no SDK) and its signature verifies under
// that certificate's key the same way, and when it names this merId, the
// request's orderId and amount; otherwise it is channels.ErrNoAnswer (the
// runtime queries, then cancels). respCode 00 is success; 03, 04, 05 and
// 83 (and a query's origRespCode of those) leave the outcome open:
// user_paying, which the runtime polls with Query; 34 is not found; 12
// (an orderId reused for another amount) channels.ErrDuplicate; format,
// signature and merchant refusals (02, 10, 11, 13, 31, 32, 37, 39)
// channels.ErrBadRequest; 06 (busy) channels.ErrNoAnswer; the others are
// declines with the cashier's message of the Messages table. ACP finds a
// transaction by orderId and txnTime, and the query of an original shows
// neither its void nor its refunds: the plugin remembers the txnTime of
// each pay, void and refund it sends (and the orders it cancelled before
// the gateway had them, which it then refuses to pay), in memory and, with
// state_file, in a JSON-lines file synced before the request leaves. The
// pages followed: the UnionPay SDK's signing and verification as the
// Essensoft.Paylink C# port writes them (UnionPaySignature.cs:
// SignByCertInfo and Validate, certId the certificate's SerialNumber,
// GetSignContent sorted and unencoded, SHA-256 hex then SHA256withRSA, the
// signing certificate's chain checked before its key is used), the
// UnionPay Java SDK's SecureUtil.sha256X16Str as copies of it in public
// repositories show it (Integer.toHexString: lower-case hex), UnionPay
// open platform's interface page of backTransReq.do (the fixed fields,
// orderId AN8..40 without - or _, the gateway paths), and FIPS 180-2's
// SHA-256 example for the hex step. UnionPay's own interface pages for the
// payment-code consumption and the respCode list were not at hand: the
// codes and their meanings are posrt's authors' reading of ACP, and 86
// for a payment code that is invalid or used is posrt's own choice, which
// the simulator speaks. Reconcile (CapabilityReconcile) looks each item
// up with queries, and the orders of the batch the plugin remembers sending
// that the terminal did not list.
package unionpayqr
