package powerloss

import (
	"sync/atomic"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// cutFS answers EIO to every request once the power is cut, so that a
// process still holding a file of a cut mount gets errors, not the page
// cache it had. Forget and the releases pass so handles can be closed.
type cutFS struct {
	fuse.RawFileSystem
	cut *atomic.Bool
}

func (c *cutFS) off() bool { return c.cut.Load() }

func (c *cutFS) Lookup(cancel <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Lookup(cancel, h, name, out)
}

func (c *cutFS) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.GetAttr(cancel, in, out)
}

func (c *cutFS) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.SetAttr(cancel, in, out)
}

func (c *cutFS) Mknod(cancel <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Mknod(cancel, in, name, out)
}

func (c *cutFS) Mkdir(cancel <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Mkdir(cancel, in, name, out)
}

func (c *cutFS) Unlink(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Unlink(cancel, h, name)
}

func (c *cutFS) Rmdir(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Rmdir(cancel, h, name)
}

func (c *cutFS) Rename(cancel <-chan struct{}, in *fuse.RenameIn, oldName, newName string) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Rename(cancel, in, oldName, newName)
}

func (c *cutFS) Link(cancel <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Link(cancel, in, name, out)
}

func (c *cutFS) Symlink(cancel <-chan struct{}, h *fuse.InHeader, target, name string, out *fuse.EntryOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Symlink(cancel, h, target, name, out)
}

func (c *cutFS) Readlink(cancel <-chan struct{}, h *fuse.InHeader) ([]byte, fuse.Status) {
	if c.off() {
		return nil, fuse.EIO
	}
	return c.RawFileSystem.Readlink(cancel, h)
}

func (c *cutFS) Access(cancel <-chan struct{}, in *fuse.AccessIn) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Access(cancel, in)
}

func (c *cutFS) GetXAttr(cancel <-chan struct{}, h *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	if c.off() {
		return 0, fuse.EIO
	}
	return c.RawFileSystem.GetXAttr(cancel, h, attr, dest)
}

func (c *cutFS) ListXAttr(cancel <-chan struct{}, h *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	if c.off() {
		return 0, fuse.EIO
	}
	return c.RawFileSystem.ListXAttr(cancel, h, dest)
}

func (c *cutFS) SetXAttr(cancel <-chan struct{}, in *fuse.SetXAttrIn, attr string, data []byte) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.SetXAttr(cancel, in, attr, data)
}

func (c *cutFS) RemoveXAttr(cancel <-chan struct{}, h *fuse.InHeader, attr string) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.RemoveXAttr(cancel, h, attr)
}

func (c *cutFS) Create(cancel <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Create(cancel, in, name, out)
}

func (c *cutFS) Tmpfile(cancel <-chan struct{}, in *fuse.CreateIn, out *fuse.CreateOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Tmpfile(cancel, in, out)
}

func (c *cutFS) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Open(cancel, in, out)
}

func (c *cutFS) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	if c.off() {
		return nil, fuse.EIO
	}
	return c.RawFileSystem.Read(cancel, in, buf)
}

func (c *cutFS) Lseek(cancel <-chan struct{}, in *fuse.LseekIn, out *fuse.LseekOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Lseek(cancel, in, out)
}

func (c *cutFS) GetLk(cancel <-chan struct{}, in *fuse.LkIn, out *fuse.LkOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.GetLk(cancel, in, out)
}

func (c *cutFS) SetLk(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.SetLk(cancel, in)
}

func (c *cutFS) SetLkw(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.SetLkw(cancel, in)
}

func (c *cutFS) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	if c.off() {
		return 0, fuse.EIO
	}
	return c.RawFileSystem.Write(cancel, in, data)
}

func (c *cutFS) Writev(cancel <-chan struct{}, in *fuse.WriteIn, data [][]byte) (uint32, fuse.Status) {
	if c.off() {
		return 0, fuse.EIO
	}
	return c.RawFileSystem.Writev(cancel, in, data)
}

func (c *cutFS) CopyFileRange(cancel <-chan struct{}, in *fuse.CopyFileRangeIn) (uint32, fuse.Status) {
	if c.off() {
		return 0, fuse.EIO
	}
	return c.RawFileSystem.CopyFileRange(cancel, in)
}

func (c *cutFS) Ioctl(cancel <-chan struct{}, in *fuse.IoctlIn, inbuf []byte, out *fuse.IoctlOut, outbuf []byte) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Ioctl(cancel, in, inbuf, out, outbuf)
}

func (c *cutFS) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Flush(cancel, in)
}

func (c *cutFS) Fsync(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Fsync(cancel, in)
}

func (c *cutFS) Fallocate(cancel <-chan struct{}, in *fuse.FallocateIn) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Fallocate(cancel, in)
}

func (c *cutFS) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.OpenDir(cancel, in, out)
}

func (c *cutFS) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.ReadDir(cancel, in, out)
}

func (c *cutFS) ReadDirPlus(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.ReadDirPlus(cancel, in, out)
}

func (c *cutFS) FsyncDir(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.FsyncDir(cancel, in)
}

func (c *cutFS) StatFs(cancel <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.StatFs(cancel, h, out)
}

func (c *cutFS) Statx(cancel <-chan struct{}, in *fuse.StatxIn, out *fuse.StatxOut) fuse.Status {
	if c.off() {
		return fuse.EIO
	}
	return c.RawFileSystem.Statx(cancel, in, out)
}
