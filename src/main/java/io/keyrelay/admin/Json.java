package io.keyrelay.admin;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** The admin server's JSON mapper: request bodies are read as trees, responses written from maps. */
final class Json {
    /** Duplicate keys are refused: {"label":"a","label":"b"} would otherwise mean whichever came last. */
    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private Json() {}
}
