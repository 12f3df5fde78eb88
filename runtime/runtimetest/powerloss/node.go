package powerloss

import (
	"context"
	"path/filepath"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// node is a loopback node over the page cache that tells the FS what
// changed and when it must become durable.
type node struct {
	*gofs.LoopbackNode
	fs *mount
}

var (
	_ gofs.NodeWrapChilder    = (*node)(nil)
	_ gofs.NodeOpener         = (*node)(nil)
	_ gofs.NodeCreater        = (*node)(nil)
	_ gofs.NodeSetattrer      = (*node)(nil)
	_ gofs.NodeOpendirHandler = (*node)(nil)
	_ gofs.NodeTmpfiler       = (*node)(nil)
	_ gofs.NodeCopyFileRanger = (*node)(nil)
	_ gofs.FileWriter         = (*handle)(nil)
	_ gofs.FileWritever       = (*handle)(nil)
	_ gofs.FileAllocater      = (*handle)(nil)
	_ gofs.FileFsyncer        = (*handle)(nil)
	_ gofs.FileFsyncdirer     = (*dirHandle)(nil)
	_ gofs.FileReaddirenter   = (*dirHandle)(nil)
	_ gofs.FileReleasedirer   = (*dirHandle)(nil)
	_ gofs.FileSeekdirer      = (*dirHandle)(nil)
	_ gofs.FileSetattrer      = (*handle)(nil)
	_ gofs.FileGetattrer      = (*handle)(nil)
	_ gofs.FileReleaser       = (*handle)(nil)
	_ gofs.FileReader         = (*handle)(nil)
)

func (n *node) WrapChild(ctx context.Context, ops gofs.InodeEmbedder) gofs.InodeEmbedder {
	return &node{LoopbackNode: ops.(*gofs.LoopbackNode), fs: n.fs}
}

func (n *node) ino() uint64 { return n.StableAttr().Ino }

func (n *node) path() string {
	return filepath.Join(n.RootData.Path, n.Path(n.Root()))
}

func (n *node) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	fh, ff, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	h, errno := n.fs.wrap(fh)
	if errno != 0 {
		return nil, 0, errno
	}
	if flags&syscall.O_TRUNC != 0 {
		n.fs.truncated(h.ino, 0)
	}
	return h, ff, 0
}

func (n *node) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	in, fh, ff, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	h, errno := n.fs.wrap(fh)
	if errno != 0 {
		fh.(gofs.FileReleaser).Release(ctx)
		return nil, nil, 0, errno
	}
	n.fs.fresh(h.ino)
	return in, h, ff, 0
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	in, errno := n.LoopbackNode.Mkdir(ctx, name, mode, out)
	if errno == 0 {
		n.fs.fresh(in.StableAttr().Ino)
	}
	return in, errno
}

func (n *node) Mknod(ctx context.Context, name string, mode, rdev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	in, errno := n.LoopbackNode.Mknod(ctx, name, mode, rdev, out)
	if errno == 0 {
		n.fs.fresh(in.StableAttr().Ino)
	}
	return in, errno
}

// Tmpfile (open with O_TMPFILE) is not emulated.
func (n *node) Tmpfile(ctx context.Context, flags, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EOPNOTSUPP
}

// CopyFileRange is left to the kernel, which falls back to reads and
// writes that the emulator sees.
func (n *node) CopyFileRange(ctx context.Context, fhIn gofs.FileHandle, offIn uint64, out *gofs.Inode, fhOut gofs.FileHandle, offOut, length, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.EOPNOTSUPP
}

func (n *node) Setattr(ctx context.Context, f gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if h, ok := f.(*handle); ok {
		f = h.LoopbackFile // the loopback file does the work; this node tracks it
	}
	errno := n.LoopbackNode.Setattr(ctx, f, in, out)
	if size, ok := in.GetSize(); ok && errno == 0 {
		n.fs.truncated(n.ino(), int64(size))
	}
	return errno
}

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	fh, ff, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &dirHandle{loopDir: fh.(loopDir), n: n}, ff, 0
}

// wrap makes a loopback file handle report to the FS.
func (f *mount) wrap(fh gofs.FileHandle) (*handle, syscall.Errno) {
	lf := fh.(*gofs.LoopbackFile)
	fd, ok := lf.PassthroughFd()
	if !ok {
		return nil, syscall.EBADF
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, gofs.ToErrno(err)
	}
	return &handle{LoopbackFile: lf, fd: fd, ino: st.Ino, fs: f}, 0
}

// handle is an open file: reads go straight to the page cache, writes are
// recorded as unsynced, fsync makes them durable.
type handle struct {
	*gofs.LoopbackFile
	fd  int
	ino uint64
	fs  *mount
}

func (h *handle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n, errno := h.LoopbackFile.Write(ctx, data, off)
	h.fs.wrote(h.ino, off, off+int64(n))
	return n, errno
}

func (h *handle) Writev(ctx context.Context, data [][]byte, off int64) (uint32, syscall.Errno) {
	n, errno := h.LoopbackFile.Writev(ctx, data, off)
	h.fs.wrote(h.ino, off, off+int64(n))
	return n, errno
}

func (h *handle) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	errno := h.LoopbackFile.Allocate(ctx, off, size, mode)
	if errno == 0 {
		h.fs.wrote(h.ino, int64(off), int64(off+size))
	}
	return errno
}

func (h *handle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return h.fs.syncFile(h.ino, h.fd)
}

// PassthroughFd is refused so that the kernel never bypasses the emulator.
func (h *handle) PassthroughFd() (int, bool) { return -1, false }

// loopDir is what the loopback directory stream offers.
type loopDir interface {
	gofs.DirStream
	gofs.FileReaddirenter
	gofs.FileSeekdirer
	gofs.FileReleasedirer
}

// dirHandle is an open directory: fsync on it commits its entries.
type dirHandle struct {
	loopDir
	n *node
}

func (d *dirHandle) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	p := d.n.path()
	var st syscall.Stat_t // the root's FUSE inode number is not the cache's
	if err := syscall.Stat(p, &st); err != nil {
		return gofs.ToErrno(err)
	}
	return d.n.fs.syncDir(st.Ino, p)
}
