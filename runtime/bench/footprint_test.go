package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posrt/posrt/runtime/runtimetest"
)

// footprintSales is how many sales BenchmarkFootprint runs:
// POSRT_FOOTPRINT_SALES, 30000 by default.
func footprintSales(b *testing.B) int {
	n := 30000
	if s := os.Getenv("POSRT_FOOTPRINT_SALES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("POSRT_FOOTPRINT_SALES=%q: want a positive count", s)
		}
		n = v
	}
	return n
}

// BenchmarkFootprint: the default terminal as shipped (`posrt run
// --headless` on the embedded default profile: receipts written to a file,
// ledgers synced) runs POSRT_FOOTPRINT_SALES card sales (30000 by default)
// over the ECR API, settling whenever the terminal answers settle_first
// (every 500 sales by default), as a cashier would. After 200, 1000, 5000, 10000, 20000... sales and at the
// end it logs the PSS of posrt, of each plugin process and of the flow
// worker (smaps_rollup) and the
// bytes each has written to disk (/proc/PID/io write_bytes); it reports
// the final PSS (total and per process, MB), the peak total PSS seen at
// the checkpoints, and write bytes per sale (total and per process).
// Run it with -benchtime 1x: the sale count is not b.N.
func BenchmarkFootprint(b *testing.B) {
	n := footprintSales(b)
	p, procs, stop := startNamed(b, binary(b, "posrt"), footprintProfile(b), b.TempDir())
	defer stop()
	settlements := 0
	sale := func(i int) {
		for {
			resp, err := p.Do(http.MethodPost, "/v1/sale", `{"amount": 1234}`)
			if err != nil {
				b.Fatalf("sale %d: %v", i, err)
			}
			var out struct {
				Result string
				Error  struct{ Code string }
			}
			_ = json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if out.Error.Code == "settle_first" {
				// As a cashier does when the terminal says "please settle first".
				resp, err := p.Do(http.MethodPost, "/v1/settle", `{}`)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("settlement before sale %d: %v %v", i, resp, err)
				}
				resp.Body.Close()
				settlements++
				continue
			}
			if out.Result != "approved" {
				b.Fatalf("sale %d result %q (%s)", i, out.Result, out.Error.Code)
			}
			return
		}
	}
	names := make([]string, 0, len(procs))
	for name := range procs {
		names = append(names, name)
	}
	sort.Strings(names)
	writes0 := map[string]int64{}
	for _, name := range names {
		writes0[name] = writeBytes(b, procs[name])
	}
	checkpoints := map[int]bool{n: true}
	for _, c := range []int{200, 1000, 5000, 10000, 20000, 30000, 50000} {
		if c < n {
			checkpoints[c] = true
		}
	}
	var peak float64
	var last map[string]float64
	start := time.Now()
	b.ResetTimer()
	for i := 1; i <= n; i++ {
		sale(i)
		if !checkpoints[i] {
			continue
		}
		last = map[string]float64{}
		var total float64
		var line strings.Builder
		for _, name := range names {
			mb := pssMB(b, procs[name])
			last[name] = mb
			total += mb
			// What of it is the process's own memory and what mapped files
			// (the binary, the journal's tables).
			rollup := fmt.Sprintf("/proc/%d/smaps_rollup", procs[name])
			fmt.Fprintf(&line, " %s=%.1f (anon %.1f, file %.1f)", name, mb,
				float64(procField(b, rollup, "Pss_Anon:"))/1024, float64(procField(b, rollup, "Pss_File:"))/1024)
		}
		peak = max(peak, total)
		var wr strings.Builder
		var wrTotal int64
		for _, name := range names {
			w := writeBytes(b, procs[name]) - writes0[name]
			wrTotal += w
			if w > 0 {
				fmt.Fprintf(&wr, " %s=%.0f", name, float64(w)/float64(i))
			}
		}
		b.Logf("after %d sales, %d settlements (%s): PSS total %.1f MB:%s; written B/sale %.0f:%s",
			i, settlements, time.Since(start).Round(time.Second), total, line.String(), float64(wrTotal)/float64(i), wr.String())
	}
	b.StopTimer()
	var total float64
	for _, name := range names {
		total += last[name]
		b.ReportMetric(last[name], "pss-"+name+"-MB")
	}
	b.ReportMetric(total, "pss-total-MB")
	b.ReportMetric(peak, "pss-peak-MB")
	var wrTotal int64
	for _, name := range names {
		w := writeBytes(b, procs[name]) - writes0[name]
		wrTotal += w
		if w > 0 {
			b.ReportMetric(float64(w)/float64(n), "wr-"+name+"-B/sale")
		}
	}
	b.ReportMetric(float64(wrTotal)/float64(n), "wr-total-B/sale")
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(n), "sale-µs")
}

// footprintProfile is the embedded default profile as shipped, with
// [runtime] memory_limit set to POSRT_FOOTPRINT_MEMORY_LIMIT (e.g. 48MiB)
// and plugin_memory_limit to POSRT_FOOTPRINT_PLUGIN_MEMORY_LIMIT when they
// are set.
func footprintProfile(b *testing.B) string {
	path := runtimetest.WriteProfile(b, nil)
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	out := string(src)
	for key, env := range map[string]string{"memory_limit": "POSRT_FOOTPRINT_MEMORY_LIMIT", "plugin_memory_limit": "POSRT_FOOTPRINT_PLUGIN_MEMORY_LIMIT"} {
		limit := os.Getenv(env)
		if limit == "" {
			continue
		}
		// The profile as WriteProfile encodes it has every key of the table.
		re := regexp.MustCompile(`(?m)^(\s*)` + key + ` = ".*"$`)
		if !re.MatchString(out) {
			b.Fatalf("no runtime.%s in the profile:\n%s", key, src)
		}
		out = re.ReplaceAllString(out, "${1}"+key+" = "+strconv.Quote(limit))
	}
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// startNamed is startHeadless returning the process ids by name: "posrt"
// and each plugin process's name (the plugin's configured name, or the
// process its plugins share).
func startNamed(b *testing.B, bin, cfg, dataDir string) (*runtimetest.Posrt, map[string]int, func()) {
	b.Helper()
	p, _, stop := startHeadless(b, bin, cfg, dataDir)
	resp, err := p.Do(http.MethodGet, "/v1/status", "")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Plugins []struct {
			Name    string `json:"name"`
			Process string `json:"process"`
			PID     int    `json:"pid"`
		} `json:"plugins"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		b.Fatal(err)
	}
	procs := map[string]int{"posrt": p.Cmd.Process.Pid}
	for i, w := range runtimetest.FlowWorkers(p.Cmd.Process.Pid) {
		procs[fmt.Sprintf("flows%d", i+1)] = w
	}
	for _, pl := range st.Plugins {
		name := pl.Name
		if pl.Process != "" {
			name = pl.Process
		}
		procs[name] = pl.PID
	}
	return p, procs, stop
}

// pssMB reads a process's proportional set size, in MB (2^20 bytes).
func pssMB(b *testing.B, pid int) float64 {
	kb := procField(b, fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:")
	return float64(kb) / 1024
}

// writeBytes reads the bytes a process has caused to be written to storage.
func writeBytes(b *testing.B, pid int) int64 {
	return procField(b, fmt.Sprintf("/proc/%d/io", pid), "write_bytes:")
}

// procField returns the first number after field in a /proc file.
func procField(b *testing.B, path, field string) int64 {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), field)
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
		if err != nil {
			b.Fatalf("%s: %v", path, err)
		}
		return v
	}
	b.Fatalf("%s: no %s", path, field)
	return 0
}
