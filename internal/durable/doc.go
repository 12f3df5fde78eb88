// Package durable writes files so that they survive a power cut whole or
// not at all. WriteFile writes a temporary file beside the target, syncs
// it, renames it over the target and syncs the directory, so that the
// target holds either its old content or all of the new one and the new
// name is on disk before WriteFile returns; SyncDir is the directory sync
// on its own, for callers that create files or directories themselves.
// It sits at the module root so that both the runtime and the plugins
// (which must not import runtime/) can use it.
package durable
