"""common.config: the schema's defaults fill what a config leaves out, and only that."""

from crossover_fmrs.common.config import config_schema, section_with_defaults


def test_defaults_fill_absent_keys_at_every_depth_and_keep_given_ones():
    node = config_schema()["properties"]["simulation"]["properties"]
    filled = section_with_defaults(
        "simulation", {"n_participants": 8, "mrs": {}, "clinical": {"madrs_missing_items": 5}}
    )
    assert filled["n_participants"] == 8
    assert filled["n_sites"] == node["n_sites"]["default"]
    assert filled["calibrate"] is node["calibrate"]["default"]
    assert filled["mrs"]["ramp_blocks"] == node["mrs"]["properties"]["ramp_blocks"]["default"]
    assert filled["clinical"]["madrs_missing_items"] == 5
    assert filled["clinical"]["madrs_missing_assessments"] == 0
    # keys without a default stay absent, so that a missing required setting still fails loudly
    assert "seed" not in filled and "glx_tnaa_mean" not in filled["mrs"]


def test_a_section_left_out_whole_is_not_invented():
    filled = section_with_defaults("simulation", {"n_participants": 8})
    assert "mrs" not in filled  # mrs has no default: the schema's `required` refuses it
