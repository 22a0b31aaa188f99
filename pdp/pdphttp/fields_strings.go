package pdphttp

// strings returns a member that must be an array of strings.
func (f *fields) strings(k string) []string {
	v, ok := f.obj[k]
	if !ok || v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		f.fail("%s must be an array of strings", f.name(k))
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok {
			f.fail("%s must be an array of strings", f.name(k))
			return nil
		}
		out = append(out, s)
	}
	return out
}
