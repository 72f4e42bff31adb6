// The structural diff: ignore patterns and their errors, the default volatile fields, arrays
// compared by key or as multisets, number equality and the bounds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "replay/diff.hpp"

namespace mcpgw::replay {
namespace {

using nlohmann::json;

IgnoreRules rules(const std::vector<std::string>& specs, bool with_defaults = false) {
  auto compiled = IgnoreRules::compile(specs, with_defaults);
  EXPECT_TRUE(compiled) << (compiled ? "" : compiled.error());
  return compiled ? std::move(*compiled) : IgnoreRules();
}

std::string compile_error(const std::vector<std::string>& specs) {
  auto compiled = IgnoreRules::compile(specs, false);
  return compiled ? "(compiled)" : compiled.error();
}

// "op path" per change, e.g. "changed /result/x", for exact assertions.
std::vector<std::string> summary(const DiffResult& result) {
  std::vector<std::string> lines;
  for (const auto& change : result.changes) {
    const char* op = change.op == JsonChange::Op::changed ? "changed"
                     : change.op == JsonChange::Op::added ? "added"
                                                          : "removed";
    lines.push_back(std::string(op) + " " + change.path);
  }
  return lines;
}

DiffResult diff(const json& recorded, const json& replayed, const IgnoreRules* ignore = nullptr) {
  DiffOptions options;
  options.ignore = ignore;
  return diff_json(recorded, replayed, options);
}

using Lines = std::vector<std::string>;

TEST(ReplayIgnore, StarMatchesOneSegmentAndEverythingBelowAMatchIsIgnored) {
  const IgnoreRules ignore = rules({"/result/content/*/text"});
  const json one = json(1);
  EXPECT_TRUE(ignore.ignores("/result/content/0/text", &one, &one));
  EXPECT_TRUE(ignore.ignores("/result/content/[name=a]/text", &one, &one));
  EXPECT_TRUE(ignore.ignores("/result/content/3/text/deeper", &one, nullptr));
  EXPECT_FALSE(ignore.ignores("/result/content/text", &one, &one));
  EXPECT_FALSE(ignore.ignores("/result/content/0/a/text", &one, &one));
  EXPECT_FALSE(ignore.ignores("/result/content/0/texts", &one, &one));
}

TEST(ReplayIgnore, DoubleStarMatchesAnyNumberOfSegmentsIncludingNone) {
  const IgnoreRules ignore = rules({"/result/**/secret", "**/x/**/y"});
  EXPECT_TRUE(ignore.ignores("/result/secret", nullptr, nullptr));
  EXPECT_TRUE(ignore.ignores("/result/a/b/c/secret", nullptr, nullptr));
  EXPECT_TRUE(ignore.ignores("/result/a/secret/below", nullptr, nullptr));
  EXPECT_FALSE(ignore.ignores("/error/secret", nullptr, nullptr));
  EXPECT_TRUE(ignore.ignores("/x/y", nullptr, nullptr));
  EXPECT_TRUE(ignore.ignores("/a/x/b/c/y", nullptr, nullptr));
  EXPECT_FALSE(ignore.ignores("/a/y/x", nullptr, nullptr));
  // "**" alone ignores every path, the whole document included.
  const IgnoreRules everything = rules({"**"});
  EXPECT_TRUE(everything.ignores("", nullptr, nullptr));
  EXPECT_TRUE(diff(json{{"a", 1}}, json{{"a", 2}}, &everything).changes.empty());
}

TEST(ReplayIgnore, KeyedSegmentsMatchLiterallyOrWithAStarInside) {
  const IgnoreRules ignore =
      rules({"/result/tools/[name=echo]/description", "/result/tools/[name=*]/title"});
  EXPECT_TRUE(ignore.ignores("/result/tools/[name=echo]/description", nullptr, nullptr));
  EXPECT_FALSE(ignore.ignores("/result/tools/[name=add]/description", nullptr, nullptr));
  EXPECT_TRUE(ignore.ignores("/result/tools/[name=add]/title", nullptr, nullptr));
  EXPECT_FALSE(ignore.ignores("/result/tools/0/title", nullptr, nullptr));

  // In a diff: tools are compared by name (a default unordered array).
  const json recorded = {{"result",
                          {{"tools",
                            {{{"name", "echo"}, {"description", "a"}, {"title", "A"}},
                             {{"name", "add"}, {"description", "b"}, {"title", "B"}}}}}}};
  const json replayed = {{"result",
                          {{"tools",
                            {{{"name", "add"}, {"description", "b2"}, {"title", "B2"}},
                             {{"name", "echo"}, {"description", "a2"}, {"title", "A2"}}}}}}};
  EXPECT_EQ(summary(diff(recorded, replayed, &ignore)),
            Lines{"changed /result/tools/[name=add]/description"});
}

TEST(ReplayIgnore, EscapesFollowRfc6901InPatternsAndPaths) {
  const IgnoreRules ignore = rules({"/a~1b", "/~0home/*"});
  EXPECT_TRUE(ignore.ignores("/a~1b", nullptr, nullptr));
  EXPECT_FALSE(ignore.ignores("/a/b", nullptr, nullptr));
  EXPECT_TRUE(ignore.ignores("/~0home/x", nullptr, nullptr));

  const json recorded = {{"a/b", 1}, {"~home", {{"x", 1}}}, {"c~d/e", 1}};
  const json replayed = {{"a/b", 2}, {"~home", {{"x", 2}}}, {"c~d/e", 2}};
  EXPECT_EQ(summary(diff(recorded, replayed, &ignore)), Lines{"changed /c~0d~1e"});
  // Keyed segments are escaped like any other: a URI key stays one segment.
  const json resources_recorded = {
      {"result", {{"resources", {{{"uri", "file:///a/b"}, {"name", "x"}}}}}}};
  const json resources_replayed = {
      {"result", {{"resources", {{{"uri", "file:///a/b"}, {"name", "y"}}}}}}};
  EXPECT_EQ(summary(diff(resources_recorded, resources_replayed)),
            Lines{"changed /result/resources/[uri=file:~1~1~1a~1b]/name"});
  const IgnoreRules by_uri = rules({"/result/resources/[uri=file:~1~1~1a~1b]/name"});
  EXPECT_TRUE(diff(resources_recorded, resources_replayed, &by_uri).changes.empty());
}

TEST(ReplayIgnore, ValueRegexesIgnoreOnlyWhenEveryPresentSideIsAMatchingString) {
  const IgnoreRules ignore = rules({R"(**/text=~^build \d+$)"});
  const json a = "build 12";
  const json b = "build 13";
  const json other = "release 13";
  const json number = 13;
  EXPECT_TRUE(ignore.ignores("/result/content/0/text", &a, &b));
  EXPECT_TRUE(ignore.ignores("/result/content/0/text", nullptr, &b));  // an added member
  EXPECT_FALSE(ignore.ignores("/result/content/0/text", &a, &other));
  EXPECT_FALSE(ignore.ignores("/result/content/0/text", &a, &number));
  EXPECT_FALSE(ignore.ignores("/result/content/0/name", &a, &b));
  // The regex applies at the matching path only, not below it.
  EXPECT_FALSE(ignore.ignores("/result/content/0/text/x", &a, &b));

  const json recorded = {{"text", "build 12"}, {"note", "build 12"}};
  const json replayed = {{"text", "build 13"}, {"note", "build 13"}};
  EXPECT_EQ(summary(diff(recorded, replayed, &ignore)), Lines{"changed /note"});
}

TEST(ReplayIgnore, BadSpecsSayWhatIsWrong) {
  EXPECT_EQ(compile_error({"/a/**b"}), R"(--ignore "/a/**b": "**" must be a whole segment)");
  EXPECT_EQ(compile_error({""}), R"(--ignore "": empty path pattern)");
  EXPECT_EQ(compile_error({"=~x"}), R"(--ignore "=~x": empty path pattern)");
  EXPECT_EQ(compile_error({"/a~2"}),
            R"(--ignore "/a~2": "~" must be followed by 0 or 1 (RFC 6901))");
  EXPECT_EQ(compile_error({"/a~"}), R"(--ignore "/a~": "~" must be followed by 0 or 1 (RFC 6901))");
  EXPECT_EQ(compile_error({"/a=~"}), R"(--ignore "/a=~": empty regular expression after "=~")");
  EXPECT_EQ(compile_error({"/a=~(x"}),
            R"(--ignore "/a=~(x": invalid regular expression: missing ): (x)");
  EXPECT_EQ(
      compile_error({"/tools/[name=x/y"}),
      R"(--ignore "/tools/[name=x/y": "[" opens a keyed segment that "]" does not close: "[name=x")");
  EXPECT_EQ(compile_error({"/a=~((((a{1,1000}){1,1000}){1,1000}){1,1000})"}),
            R"re(--ignore "/a=~((((a{1,1000}){1,1000}){1,1000}){1,1000})": )re"
            R"re(invalid regular expression: invalid repetition size: {1,1000})re");
  EXPECT_EQ(
      compile_error({R"(/a=~\pL{1000})"}),
      R"(--ignore "/a=~\pL{1000}": regular expression is too large (over the 1024 KiB budget))");
  std::string deep;
  for (int i = 0; i < 33; ++i)
    deep += "/a";
  EXPECT_EQ(compile_error({deep}), "--ignore \"" + deep + "\": more than 32 segments");
  const std::string long_spec = "/" + std::string(5000, 'a');
  EXPECT_EQ(compile_error({long_spec}),
            "--ignore \"/" + std::string(39, 'a') + "…\": longer than 4096 bytes");
  // The first bad spec is the one named; good ones before it do not hide it.
  EXPECT_EQ(compile_error({"/fine", "**/also", "/bad/**x"}),
            R"(--ignore "/bad/**x": "**" must be a whole segment)");
  // "=~" inside a keyed segment is part of the key, not the regex operator.
  const IgnoreRules keyed = rules({"/tools/[name=~0x]"});
  EXPECT_TRUE(keyed.ignores("/tools/[name=~0x]", nullptr, nullptr));
  EXPECT_FALSE(keyed.ignores("/tools/[name=x]", nullptr, nullptr));
}

TEST(ReplayUnordered, SpecsParseIntoPatternAndKey) {
  auto keyed = parse_unordered_array("/result/items=id");
  ASSERT_TRUE(keyed);
  EXPECT_EQ(keyed->pattern, "/result/items");
  EXPECT_EQ(keyed->key, "id");
  auto set = parse_unordered_array("**/tags");
  ASSERT_TRUE(set);
  EXPECT_EQ(set->pattern, "**/tags");
  EXPECT_EQ(set->key, "");
  // An '=' inside a keyed segment is not the key separator.
  auto inside = parse_unordered_array("/result/tools/[name=a]/items");
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->pattern, "/result/tools/[name=a]/items");
  EXPECT_EQ(inside->key, "");
  auto both = parse_unordered_array("/result/tools/[name=a]/items=id");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->pattern, "/result/tools/[name=a]/items");
  EXPECT_EQ(both->key, "id");

  auto empty_key = parse_unordered_array("/result/items=");
  ASSERT_FALSE(empty_key);
  EXPECT_EQ(empty_key.error(), R"(--unordered "/result/items=": empty key after "=")");
  auto bad = parse_unordered_array("/a/x**=id");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), R"(--unordered "/a/x**=id": "**" must be a whole segment)");
  auto nothing = parse_unordered_array("");
  ASSERT_FALSE(nothing);
  EXPECT_EQ(nothing.error(), R"(--unordered "": empty path pattern)");
}

json tool_call_response(const std::string& text, const std::string& stamp, int id) {
  return {{"jsonrpc", "2.0"},
          {"id", id},
          {"result",
           {{"content", {{{"type", "text"}, {"text", text}}}},
            {"structuredContent",
             {{"report", text},
              {"timestamp", 1700000000 + id},
              {"createdAt", stamp},
              {"generated", stamp},
              {"sessionId", "s-" + std::to_string(id)},
              {"progressToken", id},
              {"task", {{"taskId", "t" + std::to_string(id)}, {"lastUpdatedAt", stamp}}}}},
            {"_meta", {{"io.example/trace", std::to_string(id)}}}}}};
}

TEST(ReplayDefaults, VolatileFieldsOfTheSameContentCompareIdentical) {
  const IgnoreRules defaults = rules({}, true);
  const json recorded = tool_call_response("sum is 5", "2025-01-02T03:04:05Z", 1);
  const json replayed = tool_call_response("sum is 5", "2026-07-28 10:11:12.345+02:00", 9);
  const DiffResult result = diff(recorded, replayed, &defaults);
  EXPECT_TRUE(result.changes.empty()) << summary(result).front();
  EXPECT_EQ(result.omitted, 0u);
  // List results: the cursor and the request id differ, the tools only in order.
  const json list_recorded = {
      {"id", 1},
      {"result",
       {{"tools", {{{"name", "a"}, {"inputSchema", {{"required", {"x", "y"}}}}}, {{"name", "b"}}}},
        {"nextCursor", "c1"}}}};
  const json list_replayed = {
      {"id", 7},
      {"result",
       {{"tools", {{{"name", "b"}}, {{"name", "a"}, {"inputSchema", {{"required", {"y", "x"}}}}}}},
        {"nextCursor", "zz"}}}};
  EXPECT_TRUE(diff(list_recorded, list_replayed, &defaults).changes.empty());
}

TEST(ReplayDefaults, RealChangesAreNotHidden) {
  const IgnoreRules defaults = rules({}, true);
  const json recorded = tool_call_response("sum is 5", "2025-01-02T03:04:05Z", 1);
  const json replayed = tool_call_response("sum is 6", "2025-01-02T03:04:05Z", 1);
  const DiffResult result = diff(recorded, replayed, &defaults);
  EXPECT_EQ(summary(result),
            (Lines{"changed /result/content/0/text", "changed /result/structuredContent/report"}));
  ASSERT_EQ(result.changes.size(), 2u);
  EXPECT_EQ(result.changes[0].recorded, json("sum is 5"));
  EXPECT_EQ(result.changes[0].replayed, json("sum is 6"));

  // A date-time with more text around it is content, and so is a date turned into something else.
  const json text_recorded = {{"text", "2025-01-02T03:04:05Z: 3 errors"}, {"when", "2025-01-02"}};
  const json text_replayed = {{"text", "2025-01-02T03:04:05Z: 4 errors"}, {"when", "tomorrow"}};
  EXPECT_EQ(summary(diff(text_recorded, text_replayed, &defaults)),
            (Lines{"changed /text", "changed /when"}));
  const json stamp_recorded = {{"at", "2025-01-02T03:04:05Z"}};
  const json stamp_replayed = {{"at", 1735787045}};
  EXPECT_EQ(summary(diff(stamp_recorded, stamp_replayed, &defaults)), Lines{"changed /at"});
}

TEST(ReplayDefaults, TheDocumentedListInOrder) {
  const auto& specs = IgnoreRules::default_specs();
  ASSERT_EQ(specs.size(), 15u);
  EXPECT_EQ(specs.front(), "**/_meta");
  EXPECT_EQ(specs[1], "/id");
  EXPECT_EQ(specs[2], "/result/nextCursor");
  EXPECT_EQ(specs.back().substr(0, 4), "**=~");
  const auto& arrays = default_unordered_arrays();
  ASSERT_EQ(arrays.size(), 7u);
  EXPECT_EQ(arrays[0].pattern, "/result/tools");
  EXPECT_EQ(arrays[0].key, "name");
  EXPECT_EQ(arrays[3].key, "uriTemplate");
  EXPECT_EQ(arrays[6].pattern, "**/enum");
  EXPECT_EQ(arrays[6].key, "");
}

TEST(ReplayDiff, ToolsAreComparedByNameAndReportedByKey) {
  const json recorded = {{"result",
                          {{"tools",
                            {{{"name", "echo"}, {"description", "Echoes"}},
                             {{"name", "gone"}},
                             {{"name", "add"}, {"description", "Adds"}}}}}}};
  const json replayed = {{"result",
                          {{"tools",
                            {{{"name", "add"}, {"description", "Adds"}},
                             {{"name", "echo"}, {"description", "Echoes back"}},
                             {{"name", "new"}}}}}}};
  const DiffResult result = diff(recorded, replayed);
  EXPECT_EQ(summary(result),
            (Lines{"changed /result/tools/[name=echo]/description",
                   "removed /result/tools/[name=gone]", "added /result/tools/[name=new]"}));
  ASSERT_EQ(result.changes.size(), 3u);
  EXPECT_EQ(result.changes[1].recorded, (json{{"name", "gone"}}));
  EXPECT_FALSE(result.changes[1].replayed);
  EXPECT_FALSE(result.changes[2].recorded);
  EXPECT_EQ(result.changes[2].replayed, (json{{"name", "new"}}));
}

TEST(ReplayDiff, KeyedArraysPairDuplicatesInOrderAndKeylessElementsByPosition) {
  DiffOptions options;
  options.unordered = {{"/items", "id"}};
  const json recorded = {{"items",
                          {{{"id", 1}, {"v", "a"}},
                           {{"id", 1}, {"v", "b"}},
                           {{"v", "keyless-1"}},
                           "plain",
                           {{"id", "1"}, {"v", "string key"}}}}};
  const json replayed = {{"items",
                          {{{"id", "1"}, {"v", "string key"}},
                           {{"v", "keyless-1"}},
                           {{"id", 1.0}, {"v", "a"}},
                           "plain!",
                           {{"id", 1}, {"v", "c"}}}}};
  const DiffResult result = diff_json(recorded, replayed, options);
  // The number key 1 and 1.0 are the same key; the string "1" is another.
  EXPECT_EQ(summary(result), (Lines{"changed /items/[id=1]/v", "changed /items/3"}));
}

TEST(ReplayDiff, PlainSetsCountDuplicates) {
  const json recorded = {{"inputSchema", {{"required", {"a", "a", "b", 1}}}}};
  const json replayed = {{"inputSchema", {{"required", {1.0, "b", "a", "b"}}}}};
  const DiffResult result = diff(recorded, replayed);
  EXPECT_EQ(summary(result), (Lines{R"(removed /inputSchema/required/["a"])",
                                    R"(added /inputSchema/required/["b"])"}));
  ASSERT_EQ(result.changes.size(), 2u);
  EXPECT_EQ(result.changes[0].recorded, json("a"));
  EXPECT_EQ(result.changes[1].replayed, json("b"));
  // Reordered enums are the same set; objects in a set match by their whole value.
  const json enum_recorded = {{"enum", {"x", "y", json{{"k", 1}}}}};
  const json enum_replayed = {{"enum", {json{{"k", 1.0}}, "y", "x"}}};
  EXPECT_TRUE(diff(enum_recorded, enum_replayed).changes.empty());
}

TEST(ReplayDiff, LaterUnorderedEntriesOverrideEarlierOnes) {
  DiffOptions options;
  options.unordered = default_unordered_arrays();
  options.unordered.push_back({"/result/tools", "id"});
  const json recorded = {{"result", {{"tools", {{{"id", 1}, {"name", "a"}}}}}}};
  const json replayed = {{"result", {{"tools", {{{"id", 1}, {"name", "b"}}}}}}};
  EXPECT_EQ(summary(diff_json(recorded, replayed, options)),
            Lines{"changed /result/tools/[id=1]/name"});
  options.unordered.clear();  // ordered: by index
  EXPECT_EQ(summary(diff_json(recorded, replayed, options)), Lines{"changed /result/tools/0/name"});
}

TEST(ReplayDiff, OrderedArraysCompareByIndex) {
  const json recorded = {{"content", {"a", "b", "c"}}};
  const json replayed = {{"content", {"a", "x"}}};
  EXPECT_EQ(summary(diff(recorded, replayed)), (Lines{"changed /content/1", "removed /content/2"}));
  EXPECT_EQ(summary(diff(replayed, recorded)), (Lines{"changed /content/1", "added /content/2"}));
}

TEST(ReplayDiff, ATypeChangeIsOneChangeNotACascade) {
  const json recorded = {{"a", {{"b", 1}, {"c", {1, 2}}}}, {"n", nullptr}};
  const json replayed = {{"a", {1, 2, 3}}, {"n", false}};
  const DiffResult result = diff(recorded, replayed);
  EXPECT_EQ(summary(result), (Lines{"changed /a", "changed /n"}));
  EXPECT_EQ(result.changes[0].recorded, recorded["a"]);
  EXPECT_EQ(result.changes[0].replayed, replayed["a"]);
  EXPECT_EQ(summary(diff(json("1"), json(1))), Lines{"changed "});
}

TEST(ReplayDiff, NumbersCompareByValue) {
  EXPECT_TRUE(diff(json{{"n", 1}}, json{{"n", 1.0}}).changes.empty());
  EXPECT_TRUE(diff(json{{"n", 5u}}, json{{"n", 5}}).changes.empty());
  EXPECT_TRUE(diff(json{{"n", -0.0}}, json{{"n", 0}}).changes.empty());
  EXPECT_TRUE(diff(json{{"n", 18446744073709551615u}}, json{{"n", 18446744073709551615.0}})
                  .changes.size() == 1);  // 2^64 as a double is not 2^64-1
  EXPECT_EQ(diff(json{{"n", -1}}, json{{"n", 18446744073709551615u}}).changes.size(), 1u);
  EXPECT_EQ(diff(json{{"n", 9007199254740993}}, json{{"n", 9007199254740992.0}}).changes.size(),
            1u);
  EXPECT_EQ(diff(json{{"n", 1.5}}, json{{"n", 1}}).changes.size(), 1u);
  EXPECT_TRUE(
      diff(json{{"n", 4611686018427387904u}}, json{{"n", 4611686018427387904.0}}).changes.empty());
}

TEST(ReplayDiff, ChangesComeInRecordedOrderThenAdditions) {
  const json recorded = {{"a", 1}, {"b", {{"x", 1}}}, {"c", 1}};
  const json replayed = {{"a", 2}, {"b", {{"x", 2}, {"y", 1}}}, {"d", 1}};
  EXPECT_EQ(summary(diff(recorded, replayed)),
            (Lines{"changed /a", "changed /b/x", "added /b/y", "removed /c", "added /d"}));
}

TEST(ReplayDiff, MaxChangesBoundsTheListAndCountsTheRest) {
  json recorded = json::object();
  json replayed = json::object();
  for (int i = 0; i < 10; ++i) {
    recorded["k" + std::to_string(i)] = i;
    replayed["k" + std::to_string(i)] = i + 1;
  }
  DiffOptions options;
  options.max_changes = 3;
  const DiffResult result = diff_json(recorded, replayed, options);
  EXPECT_EQ(summary(result), (Lines{"changed /k0", "changed /k1", "changed /k2"}));
  EXPECT_EQ(result.omitted, 7u);
  // Ignored differences are not counted.
  const IgnoreRules ignore = rules({"/k9", "/k8"});
  options.ignore = &ignore;
  EXPECT_EQ(diff_json(recorded, replayed, options).omitted, 5u);
}

TEST(ReplayDiff, DeepDocumentsStayBoundedAndStillReportWhere) {
  json recorded = 1;
  json replayed = 2;
  for (int i = 0; i < 300; ++i) {
    recorded = json{{"d", std::move(recorded)}};
    replayed = json{{"d", std::move(replayed)}};
  }
  const DiffResult result = diff(recorded, replayed);
  ASSERT_EQ(result.changes.size(), 1u);
  std::string expected;
  for (int i = 0; i < 256; ++i)
    expected += "/d";
  EXPECT_EQ(result.changes[0].path, expected);
  EXPECT_FALSE(result.changes[0].recorded);  // values that deep are not copied
  EXPECT_TRUE(diff(recorded, recorded).changes.empty());
}

TEST(ReplayShortJson, CompactAndCutOnACharacterBoundary) {
  EXPECT_EQ(short_json(json{{"a", 1}, {"b", {true, nullptr, 1.5}}}),
            R"({"a":1,"b":[true,null,1.5]})");
  EXPECT_EQ(short_json(json("abcdefghij"), 6), "\"abcde…");
  EXPECT_EQ(short_json(json("ééé"), 4), "\"é…");  // 4 bytes would split the second é
  const std::string big(100000, 'x');
  const std::string cut = short_json(json{{"big", big}}, 80);
  EXPECT_EQ(cut.size(), 80u + std::string("…").size());
  EXPECT_EQ(cut.substr(0, 9), R"({"big":"x)");
  EXPECT_EQ(short_json(json(1.0)), "1.0");
  EXPECT_EQ(short_json(json("tab\there")), R"("tab\there")");
}

}  // namespace
}  // namespace mcpgw::replay
