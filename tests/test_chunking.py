"""Tests for bot/chunking.py: exact offsets always, passages sized for a reader and the model."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chunking import chunk_document
from bot.records import Document

sentence = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=0, max_size=120
).map(lambda s: s + ".")
texts = st.lists(
    st.tuples(sentence, st.sampled_from([" ", "\n", "\n\n", "  ", "\n\n\n", ". ", "? "])), max_size=40
).map(lambda parts: "".join(a + b for a, b in parts))


@settings(max_examples=300, deadline=None)
@given(text=texts, size=st.integers(100, 1200), overlap=st.integers(0, 300))
def test_offsets_are_exact(text, size, overlap):
    """For any text, document.text[start:end] == chunk.text, and chunks are ordered."""
    doc = Document(source="d.txt", text=text)
    chunks = chunk_document(doc, size, overlap)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text.strip() == c.text and c.text
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


@settings(max_examples=100, deadline=None)
@given(text=texts)
def test_repeated_sentences_map_in_order(text):
    """A text repeated twice yields chunks whose offsets cover both copies, never only the first."""
    doc = Document(source="d.txt", text=text + "\n\n" + text)
    chunks = chunk_document(doc, 150, 0)
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
    if text.strip():
        assert max(c.end for c in chunks) > len(text)


def test_chunks_respect_size_and_end_at_sentences():
    """Chunks stay under the size and prefer sentence ends over mid-sentence cuts."""
    text = " ".join(f"Sentence number {i} says something short." for i in range(60))
    chunks = chunk_document(Document("d.txt", text), 300, 50)
    assert all(len(c.text) <= 300 for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)
    assert len(chunks) > 5


def test_token_window_is_respected(embedder):
    """A chunk the model could not read whole is split again by the model's own token count."""
    text = " ".join(f"{i:07d}" for i in range(400))  # digits: many word pieces per character
    limit = embedder.max_tokens
    chunks = chunk_document(Document("d.txt", text), 4000, 0, embedder.count_tokens, limit)
    assert len(chunks) > 1
    assert all(embedder.count_tokens(c.text) <= limit for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
