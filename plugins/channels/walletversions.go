package channels

// WalletAPIVersion1 is the first wallet API.
const WalletAPIVersion1 = "v1"

// WalletAPIVersions lists the wallet API versions the runtime speaks,
// newest first.
var WalletAPIVersions = []string{WalletAPIVersion1}
