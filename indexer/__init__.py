"""Knowledge-base indexing: articles, sections, embeddings, FAISS + BM25 index, hybrid retrieval."""
