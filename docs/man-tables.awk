# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# man-tables.awk - let the tables go-md2man writes fit a terminal: the last column of each
# table expands to the line width (tbl's x) and each of its cells becomes a text block
# (T{ ... T}) that wraps; go-md2man leaves cells with markup as one unbreakable line.
function row(line,    n, c, i, out) {
	n = split(line, c, "\t")
	if (c[n] == "T{") { blk = 1; print line; return }
	out = c[1]
	for (i = 2; i < n; i++) out = out "\t" c[i]
	if (n > 1) { print out "\tT{"; print c[n]; print "T}" } else print line
}
/^\.TS/ { tbl = 1; fmt = 1; print; next }
/^\.TE/ { tbl = 0; print; next }
tbl && fmt { if ($0 ~ /;$/) { print; next }
	if ($0 ~ /\.[ ]*$/) { fmt = 0; sub(/[ ]*\.[ ]*$/, "x .") } else sub(/[ ]*$/, "x")
	print; next }
tbl && blk { if ($0 ~ /^T}/) { blk = 0; if ($0 ~ /^T}\t/) { printf "T}\t"; row(substr($0, 4)); next } } print; next }
tbl { row($0); next }
{ print }
