// LuaLineMap: a line of an assembled script back to its file and line, and
// Redis's error replies rewritten to name them.
#include "broker/store/lua_line_map.h"

#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace slussen::store {
namespace {

using Place = LuaLineMap::Place;

// change.lua's shape: its lines 1-19, a helper of 47 lines included at its
// line 20, then its own lines from 21 on.
LuaLineMap ChangeLike() {
  return LuaLineMap({{1, "lua/change.lua", 1},
                     {20, "lua/includes/clock_plan.lua", 1},
                     {67, "lua/change.lua", 21}});
}

TEST(LuaLineMapTest, EachSpanMapsItsLinesFromItsFileLine) {
  const LuaLineMap map = ChangeLike();
  EXPECT_EQ(map.Find(1), (Place{"lua/change.lua", 1}));
  EXPECT_EQ(map.Find(19), (Place{"lua/change.lua", 19}));
  EXPECT_EQ(map.Find(20), (Place{"lua/includes/clock_plan.lua", 1}));
  EXPECT_EQ(map.Find(66), (Place{"lua/includes/clock_plan.lua", 47}));
  EXPECT_EQ(map.Find(67), (Place{"lua/change.lua", 21}));
  EXPECT_EQ(map.Find(200), (Place{"lua/change.lua", 154}));
}

TEST(LuaLineMapTest, LinesBeforeTheFirstSpanAreNotMapped) {
  EXPECT_EQ(ChangeLike().Find(0), std::nullopt);
  EXPECT_EQ(LuaLineMap({{5, "lua/a.lua", 1}}).Find(4), std::nullopt);
  EXPECT_EQ(LuaLineMap().Find(1), std::nullopt);
}

TEST(LuaLineMapTest, ARedisErrorNamesTheFileLineWhereverRedisPutsTheLine) {
  // Redis 7's form of a Lua error: the line before the text and after it.
  EXPECT_EQ(ChangeLike().Apply(
                "ERR user_script:70: attempt to index a nil value script: "
                "3b08, on @user_script:70."),
            "ERR lua/change.lua:24: attempt to index a nil value script: "
            "3b08, on @lua/change.lua:24.");
  // A failed redis.call: the line after the text only.
  EXPECT_EQ(ChangeLike().Apply("WRONGTYPE Operation against a key holding the "
                               "wrong kind of value script: 3b08, on "
                               "@user_script:21."),
            "WRONGTYPE Operation against a key holding the wrong kind of "
            "value script: 3b08, on @lua/includes/clock_plan.lua:2.");
}

TEST(LuaLineMapTest, WhatIsNotAMappedLineIsLeftAsItIs) {
  const LuaLineMap map = ChangeLike();
  for (const std::string& message :
       {std::string("ABORTED referral X changed (version 3, expected 2)"),
        std::string("ERR user_script:0: a line before every span"),
        std::string("ERR user_script: no line"),
        std::string("ERR user_script:x1: not a number"),
        std::string("ERR user_script:99999999999999999999: out of range"),
        std::string("")}) {
    EXPECT_EQ(map.Apply(message), message);
  }
  EXPECT_EQ(LuaLineMap().Apply("ERR user_script:3: x"), "ERR user_script:3: x");
}

TEST(LuaLineMapTest, TextAroundAMappedLineIsKept) {
  EXPECT_EQ(LuaLineMap({{1, "f.lua", 10}}).Apply("user_script:2"), "f.lua:11");
  EXPECT_EQ(LuaLineMap({{1, "f.lua", 10}})
                .Apply("a user_script:1 b user_script:3: c user_script:"),
            "a f.lua:10 b f.lua:12: c user_script:");
}

}  // namespace
}  // namespace slussen::store
