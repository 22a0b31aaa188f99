package audit

// PendingInMemory returns how many journaled records the indexer holds in
// memory (at most Config.IndexLead), and -1 without a journal.
func PendingInMemory(w *Writer) int {
	if w.ix == nil {
		return -1
	}
	w.ix.mu.Lock()
	defer w.ix.mu.Unlock()
	return len(w.ix.pending)
}
