// Keeps the manual pages and the shell completions in step with the command line: every
// subcommand and option that describe_cli() reports must be documented and completed, and the
// documentation and completions must not offer options that do not exist. Reads the files as
// text; only the syntax checks at the end run the shells, and they skip when one is missing.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "repo_files.hpp"

#include "cli/app.hpp"

namespace mcpgw::cli {
namespace {

using test_support::have_program;
using test_support::lines_of;
using test_support::read_text;
using test_support::run_command;
using test_support::source_path;

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;)
    words.push_back(word);
  return words;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '\\';
}

// `token` occurs in `text` with no name character directly before or after it.
bool contains_token(const std::string& text, const std::string& token) {
  for (auto at = text.find(token); at != std::string::npos; at = text.find(token, at + 1)) {
    const bool starts = at == 0 || !is_name_char(text[at - 1]);
    const auto end = at + token.size();
    const bool ends = end == text.size() || !is_name_char(text[end]);
    if (starts && ends)
      return true;
  }
  return false;
}

std::string roff_escape(const std::string& name) {
  std::string escaped;
  for (char c : name) {
    if (c == '-')
      escaped += "\\";
    escaped += c;
  }
  return escaped;
}

const std::vector<CommandDescription>& commands() {
  static const std::vector<CommandDescription> described = describe_cli();
  return described;
}

std::vector<std::string> subcommand_names() {
  std::vector<std::string> names;
  for (const auto& command : commands()) {
    if (!command.name.empty())
      names.push_back(command.name);
  }
  return names;
}

// Names of the options (not positionals) of one command.
std::set<std::string> option_names(const CommandDescription& command) {
  std::set<std::string> names;
  for (const auto& option : command.options) {
    if (option.positional)
      continue;
    names.insert(option.names.begin(), option.names.end());
  }
  return names;
}

// --- roff ---------------------------------------------------------------------------------

// The lines of one .SH section, without the .SH line.
std::vector<std::string> man_section(const std::string& page, const std::string& title) {
  std::vector<std::string> section;
  bool inside = false;
  for (const auto& line : lines_of(page)) {
    if (line.rfind(".SH", 0) == 0) {
      inside = line == ".SH " + title || line == ".SH \"" + title + "\"";
      continue;
    }
    if (inside)
      section.push_back(line);
  }
  return section;
}

struct TaggedParagraph {
  std::string heading;  // the line after .TP
  std::string body;
};

std::vector<TaggedParagraph> tagged_paragraphs(const std::vector<std::string>& section) {
  std::vector<TaggedParagraph> paragraphs;
  for (std::size_t i = 0; i < section.size(); ++i) {
    if (section[i] != ".TP" || i + 1 >= section.size()) {
      if (!paragraphs.empty())
        paragraphs.back().body += section[i] + "\n";
      continue;
    }
    paragraphs.push_back({section[i + 1], ""});
    ++i;
  }
  return paragraphs;
}

// The option names ("\-\-format") that appear in the headings of an OPTIONS section.
std::set<std::string> documented_options(const std::vector<TaggedParagraph>& paragraphs) {
  std::set<std::string> names;
  for (const auto& paragraph : paragraphs) {
    for (auto word : words_of(paragraph.heading)) {
      if (word.rfind("\\-", 0) != 0)
        continue;
      std::string name;
      for (std::size_t i = 0; i < word.size(); ++i) {
        if (word.compare(i, 2, "\\-") == 0) {
          name += '-';
          ++i;
        } else if (is_name_char(word[i])) {
          name += word[i];
        } else {
          break;
        }
      }
      names.insert(name);
    }
  }
  return names;
}

const TaggedParagraph* paragraph_for(const std::vector<TaggedParagraph>& paragraphs,
                                     const std::string& option) {
  for (const auto& paragraph : paragraphs) {
    if (contains_token(paragraph.heading, roff_escape(option)))
      return &paragraph;
  }
  return nullptr;
}

// Global options live in mcpgw.1; each subcommand has its own page.
std::string man_page_for(const CommandDescription& command) {
  if (command.name.empty())
    return "man/mcpgw.1";
  return "man/mcpgw-" + command.name + ".1";
}

TEST(DocsDrift, EveryOptionIsDocumentedInItsManualPage) {
  for (const auto& command : commands()) {
    const std::string page_path = man_page_for(command);
    const std::string page = read_text(page_path);
    ASSERT_FALSE(page.empty()) << page_path;
    const auto paragraphs = tagged_paragraphs(man_section(page, "OPTIONS"));
    for (const auto& option : command.options) {
      if (option.positional) {
        const auto synopsis = man_section(page, "SYNOPSIS");
        std::string text;
        for (const auto& line : synopsis)
          text += line + "\n";
        EXPECT_TRUE(contains_token(text, option.value_name))
            << page_path << " SYNOPSIS lacks " << option.value_name << " for "
            << option.names.front();
        continue;
      }
      for (const auto& name : option.names) {
        const TaggedParagraph* paragraph = paragraph_for(paragraphs, name);
        EXPECT_NE(paragraph, nullptr)
            << page_path << " OPTIONS lacks " << name << " of '" << command.name << "'";
        if (paragraph == nullptr)
          continue;
        for (const auto& value : option.values) {
          EXPECT_TRUE(contains_token(paragraph->body, value))
              << page_path << ": " << name << " does not mention the value " << value;
        }
      }
    }
  }
}

TEST(DocsDrift, ManualPagesDocumentNoOptionThatDoesNotExist) {
  std::map<std::string, std::set<std::string>> real_by_page;
  for (const auto& command : commands()) {
    const auto names = option_names(command);
    real_by_page[man_page_for(command)].insert(names.begin(), names.end());
  }
  for (const auto& [page_path, real] : real_by_page) {
    const auto paragraphs = tagged_paragraphs(man_section(read_text(page_path), "OPTIONS"));
    for (const auto& documented : documented_options(paragraphs)) {
      EXPECT_TRUE(real.contains(documented)) << page_path << " documents " << documented;
    }
  }
}

TEST(DocsDrift, EverySubcommandIsInTheMainManualPage) {
  const std::string page = read_text("man/mcpgw.1");
  const auto paragraphs = tagged_paragraphs(man_section(page, "SUBCOMMANDS"));
  std::set<std::string> documented;
  for (const auto& paragraph : paragraphs)
    documented.insert(paragraph.heading);
  std::string synopsis;
  for (const auto& line : man_section(page, "SYNOPSIS"))
    synopsis += line + "\n";
  for (const auto& name : subcommand_names()) {
    EXPECT_TRUE(documented.contains(".B " + name)) << "mcpgw.1 SUBCOMMANDS lacks " << name;
    EXPECT_TRUE(contains_token(synopsis, name)) << "mcpgw.1 SYNOPSIS lacks " << name;
  }
  EXPECT_EQ(documented.size(), subcommand_names().size());
}

TEST(DocsDrift, ManualPagesCarryTheProgramVersion) {
  std::ostringstream out, err;
  ASSERT_EQ(run({"--version"}, out, err), kExitOk);
  std::string version = out.str();
  while (!version.empty() && version.back() == '\n')
    version.pop_back();
  for (const char* page : {"man/mcpgw.1", "man/mcpgw-lint.1", "man/mcpgw-serve.1",
                           "man/mcpgw-inspect.1", "man/mcpgw-replay.1"}) {
    const auto lines = lines_of(read_text(page));
    bool found = false;
    for (const auto& line : lines) {
      if (line.rfind(".TH ", 0) == 0) {
        found = true;
        EXPECT_NE(line.find('"' + version + '"'), std::string::npos) << page << ": " << line;
      }
    }
    EXPECT_TRUE(found) << page;
  }
}

// --- bash ---------------------------------------------------------------------------------

// The value of a `name="..."` assignment at the start of a line.
std::vector<std::string> bash_list(const std::string& script, const std::string& variable) {
  for (const auto& line : lines_of(script)) {
    const std::string prefix = variable + "=\"";
    if (line.rfind(prefix, 0) != 0 || line.back() != '"')
      continue;
    return words_of(line.substr(prefix.size(), line.size() - prefix.size() - 1));
  }
  return {};
}

TEST(DocsDrift, BashCompletionListsExactlyTheRealOptions) {
  const std::string script = read_text("completions/mcpgw.bash");
  ASSERT_FALSE(script.empty());
  const auto subcommands = bash_list(script, "_mcpgw_subcommands");
  EXPECT_EQ(subcommands, subcommand_names());
  for (const auto& command : commands()) {
    const std::string variable =
        "_mcpgw_" + (command.name.empty() ? std::string("global") : command.name) + "_options";
    const auto listed = bash_list(script, variable);
    EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), option_names(command))
        << variable;
  }
  // Value completion: the line after each `--option)` case offers every accepted value. Two
  // subcommands may share an option name with different values (--format), so each case is
  // looked for in its subcommand's branch (from its `name)` line to the next one).
  const auto lines = lines_of(script);
  std::vector<std::string> branch_of(lines.size());
  std::string branch;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto start = lines[i].find_first_not_of(' ');
    const std::string trimmed = start == std::string::npos ? "" : lines[i].substr(start);
    for (const auto& name : subcommand_names()) {
      if (trimmed == name + ")")
        branch = name;
    }
    branch_of[i] = branch;
  }
  for (const auto& command : commands()) {
    for (const auto& option : command.options) {
      if (option.values.empty())
        continue;
      bool found = false;
      for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        if (branch_of[i] != command.name ||
            lines[i].find(option.names.back() + ")") == std::string::npos)
          continue;
        found = true;
        for (const auto& value : option.values) {
          EXPECT_TRUE(contains_token(lines[i + 1], value)) << option.names.back() << " " << value;
        }
      }
      EXPECT_TRUE(found) << "no value completion for " << option.names.back();
    }
  }
  // The case pattern that finds the subcommand among the words names every one of them.
  bool dispatches_all = false;
  for (const auto& line : lines) {
    if (line.empty() || line.back() != ')')
      continue;
    bool all = true;
    for (const auto& name : subcommand_names())
      all = all && contains_token(line, name);
    dispatches_all = dispatches_all || all;
  }
  EXPECT_TRUE(dispatches_all) << "no bash case pattern lists every subcommand";
}

// --- zsh ----------------------------------------------------------------------------------

// The text of a shell function `name() {` up to the `}` that closes it at the start of a line.
std::string shell_function(const std::string& script, const std::string& name) {
  const auto lines = lines_of(script);
  std::string body;
  bool inside = false;
  for (const auto& line : lines) {
    if (!inside && line.rfind(name + "() {", 0) == 0) {
      inside = true;
      continue;
    }
    if (inside && line == "}")
      return body;
    if (inside)
      body += line + "\n";
  }
  return {};
}

TEST(DocsDrift, ZshCompletionOffersEveryOptionAndSubcommand) {
  const std::string script = read_text("completions/_mcpgw");
  ASSERT_EQ(script.rfind("#compdef mcpgw", 0), 0u);
  const std::string top = shell_function(script, "_mcpgw");
  ASSERT_FALSE(top.empty());
  for (const auto& command : commands()) {
    const std::string body =
        command.name.empty() ? top : shell_function(script, "_mcpgw_" + command.name);
    ASSERT_FALSE(body.empty()) << "no zsh function for '" << command.name << "'";
    for (const auto& option : command.options) {
      if (option.positional)
        continue;
      for (const auto& name : option.names) {
        EXPECT_TRUE(contains_token(body, name)) << "zsh '" << command.name << "' lacks " << name;
      }
      if (option.values.empty())
        continue;
      std::string values;
      for (const auto& value : option.values)
        values += (values.empty() ? "" : " ") + value;
      bool found = false;
      for (const auto& line : lines_of(body)) {
        if (contains_token(line, option.names.back()) &&
            line.find("(" + values + ")") != std::string::npos) {
          found = true;
        }
      }
      EXPECT_TRUE(found) << "zsh: no value completion (" << values << ") for "
                         << option.names.back();
    }
  }
  for (const auto& name : subcommand_names()) {
    EXPECT_NE(top.find("'" + name + ":"), std::string::npos) << "zsh lacks subcommand " << name;
    EXPECT_NE(top.find(name + ") _mcpgw_" + name + " ;;"), std::string::npos)
        << "zsh does not dispatch " << name;
  }
}

// --- fish ---------------------------------------------------------------------------------

struct FishCompletion {
  std::string command;  // "" before the subcommand
  std::set<std::string> options;
  std::vector<std::string> arguments;  // from -a
};

// Parses the `complete -c mcpgw ...` lines (single- and double-quoted words, no escapes).
std::vector<FishCompletion> fish_completions(const std::string& script) {
  std::vector<FishCompletion> completions;
  for (const auto& line : lines_of(script)) {
    if (line.rfind("complete -c mcpgw", 0) != 0)
      continue;
    std::vector<std::string> words;
    std::string word;
    char quote = 0;
    bool in_word = false;
    for (char c : line) {
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else {
          word += c;
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
        in_word = true;
      } else if (c == ' ') {
        if (in_word)
          words.push_back(word);
        word.clear();
        in_word = false;
      } else {
        word += c;
        in_word = true;
      }
    }
    if (in_word)
      words.push_back(word);
    FishCompletion completion;
    bool conditional = false;
    for (std::size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == "-n") {
        conditional = true;
        const auto condition = words_of(words[i + 1]);
        if (condition.size() >= 2 && condition[0] == "__fish_seen_subcommand_from") {
          completion.command = condition[1];
        }
      } else if (words[i] == "-s") {
        completion.options.insert("-" + words[i + 1]);
      } else if (words[i] == "-l") {
        completion.options.insert("--" + words[i + 1]);
      } else if (words[i] == "-a") {
        completion.arguments = words_of(words[i + 1]);
      }
    }
    if (conditional)
      completions.push_back(std::move(completion));
  }
  return completions;
}

TEST(DocsDrift, FishCompletionListsExactlyTheRealOptions) {
  const auto completions = fish_completions(read_text("completions/mcpgw.fish"));
  ASSERT_FALSE(completions.empty());
  std::map<std::string, std::set<std::string>> offered;
  std::set<std::string> subcommands;
  for (const auto& completion : completions) {
    offered[completion.command].insert(completion.options.begin(), completion.options.end());
    if (completion.command.empty() && completion.options.empty()) {
      subcommands.insert(completion.arguments.begin(), completion.arguments.end());
    }
  }
  const auto names = subcommand_names();
  EXPECT_EQ(subcommands, std::set<std::string>(names.begin(), names.end()));
  std::set<std::string> known_commands;
  for (const auto& command : commands()) {
    known_commands.insert(command.name);
    EXPECT_EQ(offered[command.name], option_names(command)) << "fish '" << command.name << "'";
    for (const auto& option : command.options) {
      if (option.values.empty())
        continue;
      bool found = false;
      for (const auto& completion : completions) {
        if (completion.command == command.name &&
            completion.options.contains(option.names.back())) {
          if (completion.arguments == option.values)
            found = true;
        }
      }
      EXPECT_TRUE(found) << "fish: no value completion for " << option.names.back();
    }
  }
  for (const auto& [command, options] : offered) {
    EXPECT_TRUE(known_commands.contains(command)) << "fish completes unknown '" << command << "'";
  }
}

// --- rendering and syntax -------------------------------------------------------------------

TEST(DocsDrift, ManualPagesRenderWithoutWarnings) {
  if (!have_program("groff"))
    GTEST_SKIP() << "groff is not installed";
  for (const char* page : {"man/mcpgw.1", "man/mcpgw-lint.1", "man/mcpgw-serve.1",
                           "man/mcpgw-inspect.1", "man/mcpgw-replay.1"}) {
    std::string output;
    EXPECT_EQ(run_command("groff -man -ww -z '" + source_path(page) + "'", output), 0) << page;
    EXPECT_EQ(output, "") << page;
  }
}

TEST(DocsDrift, CompletionScriptsParse) {
  const std::map<std::string, std::string> checks{{"bash", "completions/mcpgw.bash"},
                                                  {"zsh", "completions/_mcpgw"},
                                                  {"fish", "completions/mcpgw.fish"}};
  int checked = 0;
  for (const auto& [shell, file] : checks) {
    if (!have_program(shell))
      continue;
    std::string output;
    EXPECT_EQ(run_command(shell + " -n '" + source_path(file) + "'", output), 0)
        << file << ": " << output;
    ++checked;
  }
  if (checked == 0)
    GTEST_SKIP() << "no shell to check with";
}

}  // namespace
}  // namespace mcpgw::cli
