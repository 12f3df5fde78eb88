package scanner

// APIVersion1 is the first scanner API.
const APIVersion1 = "v1"

// APIVersions lists the scanner API versions the runtime speaks, newest first.
var APIVersions = []string{APIVersion1}
