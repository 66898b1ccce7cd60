/**
 * The patterns of the first screening layer, grouped by the categories of OWASP LLM01 (prompt
 * injection) and of Perez & Ribeiro, "Ignore Previous Prompt" (2022): instruction override
 * (goal hijacking), role play and jailbreak personas, system prompt exfiltration (prompt
 * leaking), delimiter and markup injection, and encoded payloads (handled in the screener).
 *
 * Each rule carries a weight in (0, 1]; the screener combines the weights of the rules that
 * match. Rules that an ordinary question can trip on their own ("act as", "developer mode",
 * a bare "system:") weigh less than the refusal threshold, so they refuse only together with
 * another sign. They run on normalised, lower-case text (see normalize.ts).
 *
 * Every pattern is bounded: gaps are `[^.!?\n]{0,N}` or a fixed list of words, never a nested
 * quantifier, so a scan is linear in the question's length.
 */

export type InjectionCategory =
  | 'instruction-override'
  | 'role-play'
  | 'prompt-exfiltration'
  | 'delimiter-injection'
  | 'encoded-payload'
  | 'obfuscation';

export interface InjectionRule {
  id: string;
  category: InjectionCategory;
  weight: number;
  pattern: RegExp;
}

/** Words that tell a model to drop what it was told. */
const DROP =
  "(?:ignore|ignoring|disregard|disregarding|forget|forgetting|neglect|abandon|discard|throw away|set aside|put aside|pay no attention to|don't follow|do not follow|stop following|no longer follow|stop obeying|do not obey|don't obey)";
/** Words a developer also uses of configuration ("override the default rules"): weaker alone. */
const TECH_DROP =
  '(?:override|overwrite|bypass|circumvent|skip|cancel|delete|erase|clear|disable|turn off|get around|evade)';
/** What a model was told, in the words injections use for it. */
const AI_NOUN =
  '(?:instructions?|instruct(?:ion)?s|directions?|directives?|prompts?|system prompt|guidelines?|guidance|programming|training|(?:system|initial|original) message)';
/** Words that also name ordinary things (shell commands, firewall rules, CI tasks). */
const GENERIC_NOUN =
  '(?:commands?|orders?|rules?|tasks?|assignments?|requests?|context|constraints?|restrictions?|polic(?:y|ies)|safeguards?|guardrails?|filters?|limitations?|protocols?)';
/** Words that point at what came before, or at the model's own rules. */
const BEFORE =
  '(?:previous|previously|prior|above|preceding|earlier|foregoing|initial|original|your|aforementioned|all (?:of )?(?:the |your )?(?:previous|prior|above|preceding|earlier))';
const WEAK_BEFORE =
  '(?:system|given|current|existing|following|old|former|these|those|the|all|any|every)';
/** Verbs that ask for text to be shown back. */
const LEAK =
  '(?:read (?:me|out|aloud)|reveal|show|print|output|display|repeat|recite|leak|dump|expose|write (?:out|down)|spell(?: out)?|paste|copy|echo|reproduce|disclose)';
const ASK =
  "(?:tell|give|share|list|return|provide|translate|summari[sz]e|what (?:is|are|was|were)|what's)";
const PROMPT_NOUN =
  '(?:system prompt|system message|prompts?|prompt texts?|instructions|directives|initial message|pre-?prompt|guidelines|rules)';
const SECRET_ADJ =
  '(?:system|initial|original|hidden|secret|confidential|internal|pre-?|previous|above|first|verbatim)';

/** A drop verb that leads a clause or follows a request: an order, not a description. */
const IMPERATIVE =
  '(?:^|[.!?:;,\\n"\'(\\-]\\s*|\\b(?:and|then|please|now|so|just|simply|must|should|to|can you|could you|would you|will you|you must|you should|you will|you need to|i want you to|i need you to|i order you to) )';

const r = (
  id: string,
  category: InjectionCategory,
  weight: number,
  source: string,
): InjectionRule => ({
  id,
  category,
  weight,
  pattern: new RegExp(source, 'u'),
});

export const INJECTION_RULES: readonly InjectionRule[] = [
  // ---- instruction override / goal hijacking
  r(
    'override-previous-instructions',
    'instruction-override',
    0.9,
    `\\b${DROP}\\b[^.!?\\n]{0,30}?\\b${BEFORE}\\b[^.!?\\n]{0,25}?\\b${AI_NOUN}\\b`,
  ),
  r(
    // "forget all previous tasks", but not "does the firewall ignore previous rules?"
    'override-previous-rules',
    'instruction-override',
    0.85,
    `${IMPERATIVE}${DROP}\\b[^.!?\\n]{0,30}?\\b${BEFORE}\\b[^.!?\\n]{0,25}?\\b${GENERIC_NOUN}\\b`,
  ),
  r(
    'override-instructions',
    'instruction-override',
    0.75,
    `\\b${DROP}\\b[^.!?\\n]{0,30}?\\b${WEAK_BEFORE}\\b[^.!?\\n]{0,25}?\\b${AI_NOUN}\\b`,
  ),
  r(
    'override-your-rules',
    'instruction-override',
    0.75,
    `\\b${TECH_DROP}\\b[^.!?\\n]{0,20}?\\byour\\b[^.!?\\n]{0,25}?\\b(?:${AI_NOUN}|${GENERIC_NOUN}|ethics|morals|alignment|safety)\\b`,
  ),
  r(
    'override-system-prompt',
    'instruction-override',
    0.4,
    `\\b${TECH_DROP}\\b[^.!?\\n]{0,30}?\\b(?:${BEFORE}|${WEAK_BEFORE})\\b[^.!?\\n]{0,25}?\\b${AI_NOUN}\\b`,
  ),
  r(
    'override-all-instructions',
    'instruction-override',
    0.75,
    `\\b${DROP}\\b (?:all|any|every|the|these|those)(?: of)?(?: the| your| my)? (?:instructions?|directions?|directives?|prompts?|guidelines?|programming|safeguards?|guardrails?)\\b`,
  ),
  r(
    'override-everything-before',
    'instruction-override',
    0.8,
    `\\b${DROP}\\b (?:everything|anything|all|what(?:ever)?(?: (?:i|you) (?:said|told you|were told|have been told|wrote))?)(?: (?:you (?:were|have been) told|that was said|i (?:said|wrote|told you)))? (?:before|above|so far|until now|up to now|previously|earlier|prior)\\b`,
  ),
  r(
    'override-the-above',
    'instruction-override',
    0.8,
    `\\b${DROP}\\b (?:the|all the|everything) (?:above|before)\\b|\\b${DROP}\\b (?:the|all the|everything) previous(?= ?[.,;:!?\\n]|$)`,
  ),
  r(
    'new-instructions',
    'instruction-override',
    0.55,
    `\\b(?:your|these are (?:your|the)|here (?:are|is) (?:your|the)) new (?:instructions?|task|tasks|role|rules?|directive|directives|objective|goal|assignment|programming|system prompt|purpose)\\b|\\bthe new (?:instructions?|directives?|system prompt)(?: are| is)? ?:`,
  ),
  r(
    'from-now-on',
    'instruction-override',
    0.45,
    `\\b(?:from now on|starting now|for the rest of this conversation|henceforth),? (?:you|your|act|respond|answer|only|always|never)\\b`,
  ),
  r(
    'just-say',
    'instruction-override',
    0.45,
    `\\b(?:instead|just|only|simply)(?: (?:say|print|output|write|respond with|reply with|answer with|return))(?: (?:the (?:word|phrase|text|string)|exactly|only))? ?:? ?["'\u00AB]`,
  ),
  r(
    'stop-everything',
    'instruction-override',
    0.45,
    `\\bstop (?:everything|what you are doing|all (?:previous )?tasks)\\b|\\bnevermind\\b[^\\n]{0,20}\\b(?:ignore|instead|just)\\b`,
  ),
  r(
    'instead-of-answering',
    'instruction-override',
    0.4,
    `\\binstead of (?:answering|doing (?:that|this|your task)|following)\\b`,
  ),
  r(
    'do-not-refuse',
    'instruction-override',
    0.35,
    `\\b(?:do not|don't|never|you cannot|you can't|you must not|you will not) (?:refuse|decline|say (?:no|sorry|you can't)|apologi[sz]e|add (?:any )?(?:warnings?|disclaimers?))\\b`,
  ),
  r(
    'authority-claim',
    'instruction-override',
    0.45,
    `\\b(?:i am|i'm|this is|as) (?:your|the|an?) (?:developer|creator|administrator|admin|system administrator|operator|owner|programmer|openai|anthropic)\\b[^.!?\\n]{0,40}\\b(?:order|command|instruct|authori[sz]e|override|allow|tell|reveal|grant|need you)`,
  ),
  r(
    'authority-override',
    'instruction-override',
    0.6,
    `\\b(?:have|has|with) (?:the )?(?:authority|permission|clearance|right) to (?:override|change|bypass|ignore|disable)\\b`,
  ),
  r(
    'system-update',
    'instruction-override',
    0.5,
    `\\b(?:important|urgent|new|mandatory|critical) (?:system|security|policy) (?:update|override|message|notice|instruction)\\b`,
  ),
  // German, French, Spanish, Dutch forms of the override (the deepset set has German ones)
  r(
    'override-de',
    'instruction-override',
    0.85,
    `\\b(?:ignorier(?:e|en|t)?|vergiss|vergessen sie|missachte)\\b[^.!?\\n]{0,40}\\b(?:anweisungen|anweisung|instruktionen|befehle|vorgaben|regeln|aufgaben|alles (?:davor|vorher|bisherige|oben))\\b`,
  ),
  r(
    'override-de-everything',
    'instruction-override',
    0.8,
    `\\b(?:vergiss|vergessen sie|ignoriere)\\b (?:alles|alle)\\b`,
  ),
  r(
    'override-fr',
    'instruction-override',
    0.85,
    `\\b(?:ignore[zr]?|oublie[zr]?)\\b (?:toutes |tous )?(?:les|vos|tes|ces|des) [^.!?\\n]{0,30}\\b(?:instructions|consignes|r[eè]gles|directives)\\b`,
  ),
  r(
    'override-es',
    'instruction-override',
    0.85,
    `\\b(?:ignora|ignore|olvida|olvide)\\b (?:todas |todos )?(?:las|tus|sus|estas|los) [^.!?\\n]{0,30}\\b(?:instrucciones|indicaciones|reglas|directrices)\\b`,
  ),
  r(
    'override-nl',
    'instruction-override',
    0.85,
    `\\b(?:negeer|vergeet)\\b[^.!?\\n]{0,40}\\b(?:instructies|opdrachten|regels|alles)\\b`,
  ),

  // ---- role play and jailbreak personas
  r(
    'dan-persona',
    'role-play',
    0.9,
    `\\bdo anything now\\b|\\b(?:you are|you're|act as|be|called|named|become) (?:now )?(?:a |an )?dan\\b|\\bdan(?: mode)?(?: is)? (?:enabled|activated|jailbreak)|\\bstan\\b[^\\n]{0,20}strive to avoid norms|\\baim\\b[^\\n]{0,30}always intelligent and machiavellian`,
  ),
  r(
    'jailbreak-word',
    'role-play',
    0.55,
    `\\bjail ?break(?:ed|ing)?\\b(?! (?:an? |my |the |your )?(?:iphone|ipad|ios|phone|device|kindle|switch|ps[345]|console|router))`,
  ),
  r(
    'developer-mode',
    'role-play',
    0.4,
    `\\b(?:developer|dev|god|jailbreak|unrestricted|unfiltered|evil|dan) mode\\b`,
  ),
  r(
    'mode-enabled',
    'role-play',
    0.35,
    `\\byou(?:'re| are| will be| have been|'ve been)? (?:now )?(?:in|entering|switched to|put into|operating in|running in)\\b[^.!?\\n]{0,20}\\bmode\\b|\\bmode (?:is )?(?:now )?(?:enabled|activated|engaged)\\b`,
  ),
  r(
    'unrestricted-persona',
    'role-play',
    0.75,
    `\\b(?:you are|you're|act as|pretend (?:to be|you are|you're)|roleplay as|role-play as|play the role of|become|be) (?:now )?(?:an? |my )?(?:unrestricted|unfiltered|uncensored|unbound|jailbroken|evil|rogue|amoral|unethical|immoral|lawless|unaligned|free)\\b`,
  ),
  r(
    'no-restrictions',
    'role-play',
    0.6,
    `\\b(?:no|without(?: any)?|free (?:of|from)|not bound by|break free of|broken free of|don't have|doesn't have|does not have|do not have|not have to (?:abide by|follow)|ignores?)\\b[^.!?\\n]{0,25}\\b(?:restrictions|limitations|limits|filters|censorship|guidelines|content polic(?:y|ies)|ethical (?:guidelines|constraints)|morals|rules set|the rules|typical confines|safety (?:guidelines|measures))\\b`,
  ),
  r(
    'never-refuses',
    'role-play',
    0.55,
    `\\b(?:never|doesn't|does not|won't|will not|cannot|can't)(?: ever)? (?:refuse|reject|deny)s?\\b[^.!?\\n]{0,20}\\b(?:requests?|anything|questions?|to answer)\\b`,
  ),
  r(
    'you-are-now',
    'role-play',
    0.45,
    `\\byou (?:are|will be|shall be) (?:now|no longer)\\b|\\bnow you are\\b|\\byou are not (?:an? )?(?:ai|assistant|language model|chatbot)\\b`,
  ),
  r(
    'act-as',
    'role-play',
    0.3,
    `\\b(?:i want you to act as|act as (?:if you (?:are|were)|an? )|pretend (?:to be|you are|you're|that you)|roleplay as|role-play as|play the role of|imagine you are|you will play)\\b`,
  ),
  r(
    'stay-in-character',
    'role-play',
    0.45,
    `\\b(?:stay|remain|keep) in (?:character|role)\\b|\\bwithout (?:even )?(?:falling|breaking|stepping) out of (?:character|the figure|role)\\b|\\balways stay in their roles\\b`,
  ),
  r(
    'two-responses',
    'role-play',
    0.6,
    `\\b(?:two|2) (?:different )?(?:responses|answers|paragraphs)\\b[^\\n]{0,80}\\b(?:normal|classic|filtered)\\b[^\\n]{0,80}\\b(?:jailbreak|dan|unfiltered|developer mode|opposite)\\b`,
  ),
  r(
    'opposite-mode',
    'role-play',
    0.5,
    `\\b(?:opposite day|reverse psychology|anti-?gpt|evil (?:twin|confidant|assistant|ai))\\b`,
  ),

  // ---- system prompt exfiltration (prompt leaking)
  r(
    'leak-your-prompt',
    'prompt-exfiltration',
    0.85,
    `\\b${LEAK}\\b[^.!?\\n]{0,25}\\b(?:your|its|the (?:ai|assistant|bot|model)'s) (?:(?:full|complete|entire|exact|whole|${SECRET_ADJ}) ){0,3}${PROMPT_NOUN}\\b`,
  ),
  r(
    'leak-the-prompt',
    'prompt-exfiltration',
    0.8,
    `\\b${LEAK}\\b[^.!?\\n]{0,25}\\b(?:the|all|my) (?:(?:full|complete|entire|exact|whole) )?${SECRET_ADJ} (?:${PROMPT_NOUN}|message|text)\\b`,
  ),
  r(
    'ask-your-prompt',
    'prompt-exfiltration',
    0.5,
    `\\b${ASK}\\b[^.!?\\n]{0,25}\\b(?:your|its) (?:(?:full|complete|entire|exact|whole|${SECRET_ADJ}) ){0,3}(?:system prompt|system message|prompts?|prompt texts?|instructions|directives|initial message|pre-?prompt)\\b`,
  ),
  r(
    'ask-the-system-prompt',
    'prompt-exfiltration',
    0.35,
    `\\b${ASK}\\b[^.!?\\n]{0,25}\\bthe (?:system|initial|original|hidden|secret) (?:prompt|instructions|message)\\b`,
  ),
  r(
    'leak-above',
    'prompt-exfiltration',
    0.7,
    `\\b(?:repeat|print|output|show|copy|reveal|display|give|return|write|tell)\\b[^.!?\\n]{0,30}\\b(?:everything|all|the (?:text|words|lines|content|message|prompt)|what (?:is|was|came|comes))\\b[^.!?\\n]{0,20}\\b(?:above|before this|before my|prior to this|(?:at|from) the (?:start|beginning|top))\\b`,
  ),
  r(
    'first-words',
    'prompt-exfiltration',
    0.7,
    `\\b(?:first|initial|opening|last) (?:\\d+ |hundred |few |ten |twenty )?(?:words|lines|sentences|characters|paragraphs?|tokens) (?:of|in|from) (?:your|the|this) (?:prompt|instructions|output|message|conversation|context|input|system)`,
  ),
  r(
    'what-were-you-told',
    'prompt-exfiltration',
    0.6,
    `\\bwhat (?:were you|have you been|was you) (?:told|instructed|programmed|asked)\\b|\\bhow (?:were you|have you been) (?:instructed|programmed|prompted)\\b|\\bwhat (?:does|did) your (?:system prompt|prompt|instructions?) (?:say|contain)\\b`,
  ),
  r(
    'secret-password',
    'prompt-exfiltration',
    0.5,
    `\\b(?:secret|hidden) (?:password|key|token|word|phrase|code)\\b|\\bthe password\\b[^.!?\\n]{0,30}\\b(?:you (?:are|were) (?:protecting|hiding|keeping|given|told)|letter by letter|backwards|reversed|encoded|in (?:base64|hex|binary))`,
  ),
  r(
    'tell-password',
    'prompt-exfiltration',
    0.4,
    `\\b(?:what is|what's|tell me|give me|reveal|spell|share|say|print)\\b[^.!?\\n]{0,15}\\b(?:the|your) (?:password|passphrase|passcode|api key|canary)\\b`,
  ),
  r(
    'canary-or-tokens',
    'prompt-exfiltration',
    0.45,
    `\\b(?:canary|secret) (?:token|string|word)\\b`,
  ),

  r(
    'dump-data',
    'prompt-exfiltration',
    0.45,
    `\\b(?:reveal|show|list|give|dump|export|print|output|display|send|forward|share)\\b[^.!?\\n]{0,20}\\b(?:any and all|all|every|other) (?:of )?(?:your |the )?(?:logs|conversation history|chat history|memory|credentials|secrets|api keys|passwords|tenants?'? ?(?:data|documents)?|users?'? ?(?:data|documents|records)|customers?'? (?:data|records))\\b`,
  ),
  r(
    'regardless-of-access',
    'prompt-exfiltration',
    0.55,
    `\\b(?:regardless of|ignoring|without checking|bypassing) (?:the |their |its |any )?(?:classification|clearance|permissions?|access (?:rights|control|level)|tenant)\\b`,
  ),

  // ---- delimiter and markup injection
  r(
    'chat-template-tokens',
    'delimiter-injection',
    0.8,
    `<\\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\\|>|\\[/?inst\\]|<<\\/?sys>>|<\\/s>|<s>\\s*\\[`,
  ),
  r(
    'role-marker-line',
    'delimiter-injection',
    0.4,
    `(?:^|\\n)\\s*(?:#{1,4} ?)?\\[?(?:system|assistant|developer|admin|instruction|instructions|new instructions)\\]?\\s*:`,
  ),
  r(
    'role-marker-bracket',
    'delimiter-injection',
    0.5,
    `\\[(?:system|admin|developer|system message|system prompt|important|override|instructions?)\\]|\\{\\{\\s*system\\b|\\(system(?: message)?:`,
  ),
  r(
    'markdown-role-header',
    'delimiter-injection',
    0.55,
    `(?:^|\\n)#{2,4} ?(?:instruction|instructions|system|response|new instructions|system prompt)\\b`,
  ),
  r(
    'closing-delimiter',
    'delimiter-injection',
    0.6,
    `<\\/(?:passage|document|documents|context|question|user_input|user|system|instructions?|data|retrieved|source)[^>]{0,20}>`,
  ),
  r(
    'opening-system-tag',
    'delimiter-injection',
    0.4,
    `<(?:system|instructions?|admin|developer|sys)(?:\\s[^>]{0,40})?>`,
  ),
  r(
    'end-of-input',
    'delimiter-injection',
    0.55,
    `\\b(?:end|begin|start) (?:of )?(?:user |system )?(?:input|prompt|instructions|context|document|conversation|data)\\b[^\\n]{0,5}(?:\\n|\\]|-{2,}|={2,}|#)|\\b(?:end|start) user input\\b`,
  ),
  r(
    'separator-then-instruction',
    'delimiter-injection',
    0.35,
    `(?:-{4,}|={4,}|\\*{4,}|#{4,}|_{4,})\\s*\\n?[^\\n]{0,20}\\b(?:ignore|now|new|instead|system|stop|forget|print|say|output)\\b`,
  ),
  r(
    'markdown-image-exfil',
    'delimiter-injection',
    0.55,
    `!\\[[^\\]\\n]{0,100}\\]\\(\\s*https?:\\/\\/[^)\\s]{0,200}[?&=][^)\\s]{0,200}\\)`,
  ),
  r('markdown-script-link', 'delimiter-injection', 0.6, `\\]\\(\\s*(?:javascript|data|vbscript):`),
  r(
    'script-or-handler',
    'delimiter-injection',
    0.45,
    `<script\\b|javascript:|\\bon(?:error|load|click)\\s*=`,
  ),
];
