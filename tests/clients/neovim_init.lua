-- Drives kernelwright's language server from a real neovim 0.7 (headless), for tests/clients/test_neovim.py.
-- Reads KW_PYTHON, KW_FILE, KW_OUT, KW_SETTINGS (JSON) from the environment; writes what it saw as JSON
-- to KW_OUT. Every wait has a deadline; a step that times out is recorded, not hung on.
local out = {}
local function finish()
  vim.fn.writefile({ vim.fn.json_encode(out) }, os.getenv('KW_OUT'))
  vim.cmd('qall!')
end

local ok, err = pcall(function()
  local file = os.getenv('KW_FILE')
  local settings = vim.fn.json_decode(os.getenv('KW_SETTINGS'))
  local client_id = vim.lsp.start_client({
    name = 'kernelwright',
    cmd = { os.getenv('KW_PYTHON'), '-m', 'kernelwright', 'serve', '--stdio' },
    root_dir = vim.fn.fnamemodify(file, ':h'),
    init_options = settings,
  })
  out.client_id = client_id
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(bufnr, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  out.initialized = vim.wait(30000, function() return client.initialized == true end, 50)
  out.offset_encoding = client.offset_encoding

  local function request(method, params, timeout)
    local answers = vim.lsp.buf_request_sync(bufnr, method, params, timeout or 20000)
    if not answers or not answers[client_id] then return nil, 'no answer' end
    return answers[client_id].result, answers[client_id].err
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local doc = { uri = uri }

  -- Lenses: Profile and Optimize above the site.
  local lenses = request('textDocument/codeLens', { textDocument = doc }) or {}
  out.lenses = {}
  for _, lens in ipairs(lenses) do
    table.insert(out.lenses, { title = lens.command and lens.command.title, line = lens.range.start.line })
  end

  -- Hover on the site's name.
  local hover = request('textDocument/hover', { textDocument = doc, position = { line = 8, character = 5 } })
  out.hover = hover and hover.contents and hover.contents.value or vim.NIL

  -- The Optimize code action, end to end: neovim applies the server's workspace/applyEdit itself.
  local actions = request('textDocument/codeAction', {
    textDocument = doc,
    range = { start = { line = 9, character = 4 }, ['end'] = { line = 9, character = 4 } },
    context = { diagnostics = {} },
  }) or {}
  out.actions = {}
  local optimize
  for _, action in ipairs(actions) do
    table.insert(out.actions, action.title)
    if action.title:match('^Optimize this kernel') then optimize = action end
  end
  if optimize then
    local before = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
    local answer = client.request_sync('workspace/executeCommand', optimize.command, 20000, bufnr)
    out.optimize_started = answer and answer.result or vim.NIL
    out.optimize_applied = vim.wait(240000, function()
      return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n') ~= before
    end, 100)
    out.text_after = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n')
  end
  vim.lsp.stop_client(client_id)
  vim.wait(5000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
end)
if not ok then out.error = tostring(err) end
finish()
