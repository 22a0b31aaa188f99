package jwks

import (
	"net/http"
	"testing"
	"time"
)

func TestLifetime(t *testing.T) {
	t.Parallel()
	const lo, hi = 30 * time.Second, 5 * time.Minute
	tests := []struct {
		name         string
		cacheControl []string
		age          string
		want         time.Duration
	}{
		{name: "no Cache-Control: the maximum", want: hi},
		{name: "max-age within the bounds", cacheControl: []string{"public, max-age=120"}, want: 2 * time.Minute},
		{name: "max-age above the maximum", cacheControl: []string{"max-age=86400"}, want: hi},
		{name: "max-age beyond int64", cacheControl: []string{"max-age=99999999999999999999"}, want: hi},
		{name: "max-age below the minimum", cacheControl: []string{"max-age=1"}, want: lo},
		{name: "max-age=0 cannot make us hammer the provider", cacheControl: []string{"max-age=0"}, want: lo},
		{name: "no-cache", cacheControl: []string{"no-cache"}, want: lo},
		{name: "no-store beside a max-age", cacheControl: []string{"max-age=200, no-store"}, want: lo},
		{name: "quoted max-age, upper case", cacheControl: []string{`Max-Age="90"`}, want: 90 * time.Second},
		{name: "max-age on a second field line", cacheControl: []string{"public", "max-age=60"}, want: time.Minute},
		{name: "Age is subtracted", cacheControl: []string{"max-age=200"}, age: "80", want: 2 * time.Minute},
		{name: "Age beyond max-age", cacheControl: []string{"max-age=200"}, age: "500", want: lo},
		{name: "invalid max-age is ignored", cacheControl: []string{"max-age=soon"}, want: hi},
		{name: "negative max-age is ignored", cacheControl: []string{"max-age=-5"}, want: hi},
		{name: "other directives only", cacheControl: []string{"public, must-revalidate"}, want: hi},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tt.cacheControl {
				h.Add("Cache-Control", v)
			}
			if tt.age != "" {
				h.Set("Age", tt.age)
			}
			if got := lifetime(h, lo, hi); got != tt.want {
				t.Fatalf("lifetime(%v) = %s, want %s", h, got, tt.want)
			}
		})
	}
}
