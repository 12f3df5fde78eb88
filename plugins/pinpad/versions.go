package pinpad

// APIVersion1 is the first PIN pad API.
const APIVersion1 = "v1"

// APIVersions lists the PIN pad API versions the runtime speaks, newest first.
var APIVersions = []string{APIVersion1}
