package printer

// APIVersion1 is the first printer API.
const APIVersion1 = "v1"

// APIVersions lists the printer API versions the runtime speaks, newest first.
var APIVersions = []string{APIVersion1}
