package serial

import "github.com/posrt/posrt/plugins/pinpad/serial/wire"

func frameLoadMaster(key, kcv []byte) wire.Frame {
	return wire.Frame{Command: wire.CmdLoadMasterKey, Fields: []wire.Field{{Tag: wire.TagKey, Value: key}, {Tag: wire.TagCheckValue, Value: kcv}}}
}
