package render

// edit is one step of an edit script turning a sequence b into a: keep b[bi] (= a[ai]), delete b[bi],
// or insert a[ai].
type edit struct {
	keep, del bool
	bi, ai    int
}

// maxLCSCells bounds the longest-common-subsequence table; beyond it the differing middle of two
// sequences is shown as removed and added wholesale rather than spending quadratic memory.
const maxLCSCells = 1 << 20

// edits returns a shortest edit script from a sequence of n elements to one of m, eq comparing b[i]
// with a[j]. Common prefix and suffix are matched first, so long sequences with a small change stay
// cheap.
func edits(n, m int, eq func(i, j int) bool) []edit {
	var out []edit
	pre := 0
	for pre < n && pre < m && eq(pre, pre) {
		out = append(out, edit{keep: true, bi: pre, ai: pre})
		pre++
	}
	suf := 0
	for suf < n-pre && suf < m-pre && eq(n-1-suf, m-1-suf) {
		suf++
	}
	bn, am := n-pre-suf, m-pre-suf
	if bn*am > maxLCSCells {
		for i := range bn {
			out = append(out, edit{del: true, bi: pre + i})
		}
		for j := range am {
			out = append(out, edit{ai: pre + j})
		}
	} else {
		// lcs[i][j] is the length of the longest common subsequence of the middles from i and j on.
		lcs := make([][]int32, bn+1)
		for i := range lcs {
			lcs[i] = make([]int32, am+1)
		}
		for i := bn - 1; i >= 0; i-- {
			for j := am - 1; j >= 0; j-- {
				if eq(pre+i, pre+j) {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		for i, j := 0, 0; i < bn || j < am; {
			switch {
			case i < bn && j < am && eq(pre+i, pre+j):
				out = append(out, edit{keep: true, bi: pre + i, ai: pre + j})
				i, j = i+1, j+1
			case j == am || i < bn && lcs[i+1][j] >= lcs[i][j+1]:
				out = append(out, edit{del: true, bi: pre + i})
				i++
			default:
				out = append(out, edit{ai: pre + j})
				j++
			}
		}
	}
	for k := range suf {
		out = append(out, edit{keep: true, bi: n - suf + k, ai: m - suf + k})
	}
	return out
}
