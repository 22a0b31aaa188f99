package webuitest

import "github.com/chromedp/chromedp"

// NewTab opens another tab in the same browser, sharing its profile and
// cookies (two tabs of one user), with the same base URL, screenshot
// directory and budget. The tab is closed when the test ends.
func (c *Chrome) NewTab() *Chrome {
	ctx, cancel := chromedp.NewContext(c.ctx)
	c.t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // close the tab; the browser stays for the other tabs
		cancel()
	})
	return &Chrome{t: c.t, ctx: ctx, base: c.base, dir: c.dir, prefix: c.prefix}
}
