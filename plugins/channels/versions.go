package channels

// APIVersion1 is the first channel API.
const APIVersion1 = "v1"

// APIVersions lists the channel API versions the runtime speaks, newest first.
var APIVersions = []string{APIVersion1}
