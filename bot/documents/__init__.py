"""Documents drawn from the curriculum for counselors, for `craftbot graph` and `craftbot book`.

The models say what is shown: `graph` (a module's arrows, labels and branches in words) and
`book` (each step's page, the crisis sections). The renderers write them: `mermaid` and
`dot` (Graphviz) draw flows, `html_book` and `markdown_book` write the book.
"""
