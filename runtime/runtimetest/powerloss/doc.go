// Package powerloss is posrt's power-loss emulator for crash-durability
// tests: Mount puts a FUSE loopback file system over a backing directory
// (the emulated disk) on which every write is visible at once, as through a
// page cache, but reaches the disk only when it is synced: a file's data
// when the file is fsync'd or fdatasync'd, and the name space (creates,
// renames, unlinks, mkdirs, and sizes set by truncate) when any file or
// directory is fsync'd, as ext4's metadata journal does (or, with
// Options.StrictDirSync, only the entries of the directory that was fsync'd,
// sizes counting as data). Cut drops every unsynced write and
// detaches the mount, after which a file still open there answers EIO; a
// fresh Mount over the same backing directory shows exactly what had been
// synced. Unmount is an orderly shutdown and keeps everything. It carries
// writable shared mmap (the kernel writes dirty pages back through the mount
// before an fsync or msync), which badger needs; so that the test process
// may map files without deadlocking against its own FUSE server, the mount
// is served by a child process (the test binary re-run, caught by this
// package's init). A program whose disk was cut should be abandoned, not
// closed: badger's Close retries forever on EIO. Unsynced data lives in a
// page-cache directory on the real disk, so memory holds only bounded lists
// of unsynced ranges per file. Regular files and directories are kept;
// symlinks and device nodes work while mounted but are not durable, and
// O_TMPFILE is refused.
package powerloss
