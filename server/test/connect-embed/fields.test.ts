import { describe, expect, it } from 'vitest';
import { type FormProvider, renderCredentialFields, renderFieldTemplates, renderProviderPicker } from '../../src/connect-embed/fields.js';

/**
 * The connect form's fields, rendered from a catalog entry. A synthetic entry shaped like
 * Azure's (a required non-secret `providerConfig.endpoint` and the key) stands for any provider
 * whose credential is more than a key: the form needs no change when such a provider lands.
 */

const azureLike: FormProvider = {
  id: 'azure',
  name: 'Azure OpenAI',
  credentials: [
    {
      field: 'providerConfig.endpoint',
      label: 'Endpoint',
      secret: false,
      required: true,
      placeholder: 'https://<resource>.openai.azure.com',
      helpUrl: 'https://learn.microsoft.com/azure/ai-services/openai/',
    },
    { field: 'providerKey', label: 'API key', secret: true, required: true, placeholder: '<key>' },
    { field: 'providerConfig.apiVersion', label: 'API version', secret: false, required: false, placeholder: '2024-10-21' },
  ],
};

describe('connect form fields', () => {
  it('renders each catalog field: a password input for a secret, text otherwise, its label, placeholder and help link', () => {
    const html = renderCredentialFields(azureLike);
    expect(html).toContain('<label for="byo-cfg-endpoint">Endpoint</label>');
    expect(html).toMatch(
      /<input id="byo-cfg-endpoint" type="text" data-field="providerConfig\.endpoint" data-label="Endpoint" placeholder="https:\/\/&#60;resource&#62;\.openai\.azure\.com"[^>]* required>/,
    );
    expect(html).toContain(
      '<a href="https://learn.microsoft.com/azure/ai-services/openai/" target="_blank" rel="noopener noreferrer">Where do I find this?</a>',
    );
    expect(html).toMatch(/<input id="byo-key" type="password" data-field="providerKey"[^>]* required>/);
    // One help link: the key has none in this entry.
    expect(html.match(/<a /g)).toHaveLength(1);
    // Required fields first and visible; the optional one under a collapsed "Advanced".
    const [visible, advanced] = html.split('<details class="advanced">');
    expect(visible).toContain('byo-cfg-endpoint');
    expect(visible).toContain('byo-key');
    expect(advanced).toMatch(/^\s*<summary>Advanced<\/summary>/);
    expect(advanced).toContain('<label for="byo-cfg-apiVersion">API version <span class="optional">(optional)</span></label>');
    expect(advanced).not.toMatch(/byo-cfg-apiVersion"[^>]* required/);
    // No input has a name: nothing can be form-posted.
    expect(html).not.toMatch(/\sname=/);
  });

  it('escapes catalog values and renders no link that is not https', () => {
    const html = renderFieldTemplates([
      {
        id: 'x',
        name: 'X "<b>"',
        credentials: [
          {
            field: 'providerKey',
            label: 'Key <i>',
            secret: true,
            required: true,
            placeholder: '"><script>',
            helpUrl: 'javascript:alert(1)',
          },
        ],
      },
    ]);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<i>');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('data-name="X &#34;&#60;b&#62;&#34;"');
  });

  it('offers a few providers as radios, many as a labelled select, and hides the choice when locked to one', () => {
    const make = (n: number) => Array.from({ length: n }, (_, i) => ({ ...azureLike, id: `p${i}`, name: `P${i}` }));
    expect(renderProviderPicker(make(1))).toContain('<fieldset class="providers" hidden>');
    expect(renderProviderPicker(make(4)).match(/type="radio"/g)).toHaveLength(4);
    const many = renderProviderPicker(make(13));
    expect(many).toMatch(/<label for="byo-provider">Provider<\/label>\s*<select id="byo-provider">/);
    expect(many.match(/<option /g)).toHaveLength(13);
    expect(many).not.toContain('radio');
  });
});
