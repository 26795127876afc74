import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from './names';

/** Typed keys of the custom search attributes (workflow `upsertSearchAttributes`, client `typedSearchAttributes`). */
export const SEARCH_ATTRIBUTE_KEYS = {
  group: defineSearchAttributeKey(SEARCH_ATTRIBUTES.group.name, SearchAttributeType.KEYWORD),
  failedRegion: defineSearchAttributeKey(SEARCH_ATTRIBUTES.failedRegion.name, SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey(SEARCH_ATTRIBUTES.phase.name, SearchAttributeType.KEYWORD),
} as const;
