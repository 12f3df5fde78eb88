package escpos

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/posrt/posrt/plugins/printer"
)

// jobMemory holds the last RememberedJobs printed job IDs, oldest first,
// and saves them to path, when set, on every change.
type jobMemory struct {
	ids  []printer.JobID
	path string
}

func (m *jobMemory) has(id printer.JobID) bool { return slices.Contains(m.ids, id) }

// add remembers id and saves; on a failure to save it forgets id again.
func (m *jobMemory) add(id printer.JobID) error {
	old := m.ids
	m.ids = append(slices.Clone(m.ids), id)
	if len(m.ids) > RememberedJobs {
		m.ids = m.ids[len(m.ids)-RememberedJobs:]
	}
	if err := m.save(); err != nil {
		m.ids = old
		return err
	}
	return nil
}

func (m *jobMemory) remove(id printer.JobID) error {
	m.ids = slices.DeleteFunc(slices.Clone(m.ids), func(x printer.JobID) bool { return x == id })
	return m.save()
}

// save writes the IDs to a new file and renames it over the old one, so
// that a crash leaves one or the other whole.
func (m *jobMemory) save() error {
	if m.path == "" {
		return nil
	}
	var b bytes.Buffer
	b.WriteString(jobsHeader + "\n")
	for _, id := range m.ids {
		b.WriteString(strconv.Quote(string(id)) + "\n")
	}
	tmp := m.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("saving the printed job ids: %w", err)
	}
	_, err = f.Write(b.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, m.path)
	}
	if err != nil {
		return fmt.Errorf("saving the printed job ids: %w", err)
	}
	return nil
}

// loadJobs reads the IDs saved at path; a missing file holds none.
func loadJobs(path string) ([]printer.JobID, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the printed job ids: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	var ids []printer.JobID
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			if sc.Text() != jobsHeader {
				return nil, fmt.Errorf("reading the printed job ids from %s: not a file of job ids", path)
			}
			continue
		}
		id, err := strconv.Unquote(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("reading the printed job ids from %s: line %d: %w", path, n, err)
		}
		ids = append(ids, printer.JobID(id))
	}
	return ids, sc.Err()
}

// mergeJobs returns saved followed by the IDs of mem it lacks, the last
// RememberedJobs of them.
func mergeJobs(saved, mem []printer.JobID) []printer.JobID {
	ids := slices.Clone(saved)
	for _, id := range mem {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > RememberedJobs {
		ids = ids[len(ids)-RememberedJobs:]
	}
	return ids
}
