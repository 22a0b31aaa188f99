package conformance

import (
	"testing"

	"github.com/stepgate/stepgate/storage"
)

func settingTests() []subTest {
	return []subTest{{"Settings", testSettings}}
}

func testSettings(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	_, err := s.GetSetting(ctx, "bootstrap_done")
	wantErr(t, err, storage.ErrNotFound, "get missing setting")
	steps := []struct {
		name, key, value string
	}{
		{"create", "bootstrap_done", "true"},
		{"overwrite", "bootstrap_done", "false"},
		{"empty value", "note", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			mustNoErr(t, s.SetSetting(ctx, st.key, st.value), "set "+st.key)
			got, err := s.GetSetting(ctx, st.key)
			mustNoErr(t, err, "get "+st.key)
			if got != st.value {
				t.Errorf("%s = %q, want %q", st.key, got, st.value)
			}
		})
	}
	wantErr(t, s.SetSetting(ctx, "", "x"), storage.ErrInvalid, "set empty key")
}
