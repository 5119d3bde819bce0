-- A split's successors may each carry the share of the closed agency's responses and completed
-- dossiers they take when figures are restated (issue 20), in thousandths: 600 is 0.6. NULL: no
-- share given (a merge or rename, or a split the province has not apportioned, which restated
-- reports leave unrestated and footnote). Shares are given for all successors of an agency or
-- none, and add up to 1000; the registry import checks that.
ALTER TABLE agency_successors ADD COLUMN share INTEGER CHECK (share BETWEEN 1 AND 1000);
