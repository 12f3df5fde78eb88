package base

import "testing"

func TestCheckAPIVersion(t *testing.T) {
	info := Info{Kind: KindPrinter, Name: "test-printer", APIVersions: []string{"v2", "v1"}}
	for _, v := range info.APIVersions {
		if err := CheckAPIVersion(info, v); err != nil {
			t.Errorf("CheckAPIVersion(%s): %v", v, err)
		}
	}
	for _, v := range []string{"v3", "", "V1"} {
		err := CheckAPIVersion(info, v)
		want := `unsupported printer API version "` + v + `": test-printer speaks [v2 v1]`
		if err == nil || err.Error() != want {
			t.Errorf("CheckAPIVersion(%q) = %v, want %s", v, err, want)
		}
	}
	if err := CheckAPIVersion(Info{Kind: KindScanner, Name: "mute"}, "v1"); err == nil {
		t.Error("CheckAPIVersion accepted v1 from a plugin that speaks no version")
	}
}
