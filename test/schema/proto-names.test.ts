import { describe, expect, it } from 'vitest'
import {
  defaultJsonName,
  enumValueWords,
  fieldIdentifier,
  fieldScope,
  mapEntryName,
  packageSegment,
  pathSegment,
  typeIdentifier,
  typeScope,
  upperSnake,
} from '../../engine/schema/proto-names.js'

describe('proto names', () => {
  it.each([
    ['id', 'id'],
    ['userID', 'user_id'],
    ['HTTPStatus', 'http_status'],
    ['utf8String', 'utf8_string'],
    ['Order Date', 'order_date'],
    ['a--b__c', 'a_b_c'],
    ['_1', '_1'],
    ['1st', '_1st'],
    ['Ünïcode', 'unicode'],
    ['цена', 'field'],
    ['', 'field'],
    ['message', 'message_'],
    ['default', 'default_'],
    ['constructor', 'constructor_'],
  ])('field %j → %s', (raw, expected) => {
    expect(fieldIdentifier(raw)).toBe(expected)
  })

  it.each([
    ['tags', 'Tags'],
    ['tag_counts', 'TagCounts'],
    ['_1', 'Field1'],
    ['message_', 'Message'],
  ])('type for field %s → %s', (field, expected) => {
    expect(typeIdentifier(field)).toBe(expected)
  })

  it('builds enum prefixes and value words', () => {
    expect(upperSnake('TagsItem')).toBe('TAGS_ITEM')
    expect(upperSnake('Field1')).toBe('FIELD1')
    expect(enumValueWords("it's shipped")).toBe('IT_S_SHIPPED')
    expect(enumValueWords('€')).toBe('')
  })

  it("follows protoc's JSON and map entry names", () => {
    expect(defaultJsonName('order_date')).toBe('orderDate')
    expect(defaultJsonName('_1st')).toBe('1st')
    expect(defaultJsonName('a__b_')).toBe('aB')
    expect(mapEntryName('tag_counts')).toBe('TagCountsEntry')
  })

  it('makes path and package segments', () => {
    expect(pathSegment('Shop-EU')).toBe('shop_eu')
    expect(pathSegment('')).toBe('_')
    expect(packageSegment('2024')).toBe('_2024')
    expect(packageSegment('default')).toBe('default_')
  })

  it('claims unique names per scope', () => {
    const fields = fieldScope()
    expect(['a_1', 'a1', 'a1', 'message_'].map((name) => fields.claim(name))).toEqual([
      'a_1',
      'a1_2',
      'a1_3',
      'message_',
    ])
    expect(fields.claim('x', (name) => name === 'x' || name === 'x_2')).toBe('x_3')
    const types = typeScope()
    types.take('FooEntry')
    expect(['Foo', 'Foo', 'FooEntry'].map((name) => types.claim(name))).toEqual(['Foo', 'Foo2', 'FooEntry2'])
  })
})
